"""trainer: online training and exam platform for workplace safety certification."""
