"""A PyTorch module written by hand (not by cnnspec), for `cnnspec import --from-torch`."""

import torch
from torch import nn
from torch.nn import functional as F


class Block(nn.Module):
    """A residual block written the usual way: `out = relu(bn(conv(x)) + shortcut(x))`."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        self.down = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False),
                                  nn.BatchNorm2d(c_out)) if stride != 1 else None

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        shortcut = self.down(x) if self.down is not None else x
        return F.relu(out + shortcut)


class SmallNet(nn.Module):
    """Stem, two residual blocks, a two-branch concatenation, a classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1), nn.ReLU(),
                                  nn.MaxPool2d(2))
        self.block1 = Block(16, 16, 1)
        self.block2 = Block(16, 32, 2)
        self.left = nn.Conv2d(32, 8, 1)
        self.right = nn.Sequential(nn.Conv2d(32, 8, 1), nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 10)
        self.drop = nn.Dropout(0.25)

    def forward(self, x):
        x = self.block2(self.block1(self.stem(x)))
        x = torch.cat([self.left(x), self.right(x)], dim=1)
        x = torch.flatten(self.pool(x), 1)
        return self.fc(self.drop(x))


class WithSelu(nn.Module):
    """A layer cnnspec has no word for."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.act = nn.SELU()

    def forward(self, x):
        return self.act(self.conv(x))


def small_net() -> SmallNet:
    """A factory, as some model zoos expose them."""
    return SmallNet()
