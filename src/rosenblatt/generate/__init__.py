"""Generative models at work: training (`train`), sample-quality measures on the committed
LeNet-5 classifier's features (`metrics`), evaluation on the test set (`evaluate`) and
pictures (`visual`); the `rosenblatt generate` command (`cli`)."""
