# Doctests run small fits: one thread is fastest and keeps parallel runs calm.
import torch

torch.set_num_threads(1)
