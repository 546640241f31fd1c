"""What lesson 06 teaches and later lessons reuse: generated from solutions/06_controlling_gans.ipynb
by scripts/make_lessons.py (its cells that start with `# @save`). Do not edit: edit the solution, then
run `make lessons`."""
from __future__ import annotations

import torch

from helpers import models


class ConditionalGenerator(models.ConditionalGenerator):
    def forward(self, noise, labels):
        inputs = torch.cat([noise, self.label_embedding(labels)], dim=1)   # (N, latent + embed)
        return self.net(inputs).view(-1, *self.image_shape)                # (N, C, H, W)


class ConditionalDiscriminator(models.ConditionalDiscriminator):
    def forward(self, images, labels):
        features = self.body(images)                                                  # (N, hidden)
        projection = (self.label_embedding(labels) * features).sum(dim=1, keepdim=True)  # (N, 1)
        return self.out(features) + projection                                        # (N, 1)


class InfoDiscriminator(models.InfoDiscriminator):
    def forward(self, images):
        features = self.body(images)                                       # (N, hidden)
        q = self.q_head(features)                                          # (N, K + C)
        category_logits, continuous = q.split([self.num_categories, self.num_continuous], dim=1)
        return self.d_head(features), category_logits, continuous          # (N, 1), (N, K), (N, C)
