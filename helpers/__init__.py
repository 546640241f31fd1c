"""Helpers for the GAN course: the plumbing each lesson imports so that the lesson itself
can show the ideas (models, losses, the training loop) and nothing else.

One module per concept:
    runtime   device, seeds, smoke mode, where results and data go
    params    a lesson's parameters, checked once, with a message naming any bad one
    download  the one downloader (resumable, checksum-verified) and file checksums
    images    uint8 pixels <-> the [-1, 1] floats the networks use
    toy_data  2-D toy datasets (the harmonic curve, the mixtures of Gaussians)
    mnist     MNIST / Fashion-MNIST as one uint8 tensor, batches by index
    faces     face images (CelebA, or an offline stand-in) for the DCGAN lessons
    classifier  a small digit classifier that judges generated images
    augment   small random moves of images (lesson 06's consistency term)
    models    generators and discriminators
    losses    GAN losses taught in later lessons
    training  steps(): the one wrapper around a lesson's loop (progress, NaN stop, Ctrl-C, resume); History
    checkpoints  save and load models, optimizers and a History, CRC-checked
    resume    epochs of batches that resume mid-epoch, and a run's checkpoint saved and resumed as one
    plotting  live plots, decision surfaces, image grids
    metrics   numbers that say how well a GAN is doing
    checks    the check cells that follow each exercise: helpers.checks.lessonNN, one module per lesson
    widgets   interactive controls for the lessons
    style_transfer  neural style transfer: images, VGG19 features, its three losses
    vae       the variational autoencoder of lesson 07
"""
from helpers.runtime import device, seed_everything, smoke_mode

__all__ = ["device", "seed_everything", "smoke_mode"]
__version__ = "0.1.0"
