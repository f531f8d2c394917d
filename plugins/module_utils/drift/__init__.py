# -*- coding: utf-8 -*-
# Copyright: sdd.devops_flow contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cloud drift: what the model expects in a cloud against what is there.

``expected`` turns the model into the resources the generated Terraform declares
for one environment (names, tags or labels, sizes, encryption, open ports);
``aws``, ``gcp`` and ``azure`` read what the cloud holds with each cloud's own
SDK; ``compare`` matches the two and reports what is missing, extra or changed.
"""
