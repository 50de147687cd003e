"""Small ResNet-style classifiers in plain PyTorch, sized to train on a CPU in minutes.

A stem per input size brings every image to a feature map of about 28x28 (224 -> 28,
64 -> 32, 28 -> 28), so the three stages (widths 32-64-128) cost about the same at any size.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from torch import Tensor, nn

from cdss.errors import ConfigError

WIDTHS = (32, 64, 128)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and a shortcut (He et al. 2016).

    Shapes: (N, C_in, H, W) -> (N, C_out, H / stride, W / stride).
    """

    def __init__(self, channels_in: int, channels_out: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels_in, channels_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels_out)
        self.conv2 = nn.Conv2d(channels_out, channels_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels_out)
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or channels_in != channels_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(channels_in, channels_out, 1, stride, bias=False), nn.BatchNorm2d(channels_out)
            )

    def forward(self, x: Tensor) -> Tensor:
        out = self.bn1(self.conv1(x)).relu()
        return (self.bn2(self.conv2(out)) + self.shortcut(x)).relu()


def _conv(channels_in: int, channels_out: int, kernel: int, stride: int) -> list[nn.Module]:
    return [
        nn.Conv2d(channels_in, channels_out, kernel, stride, kernel // 2 if kernel % 2 else 0, bias=False),
        nn.BatchNorm2d(channels_out),
        nn.ReLU(),
    ]


STEMS: dict[int, Callable[[int], nn.Sequential]] = {
    28: lambda width: nn.Sequential(*_conv(1, width, 3, 1)),
    64: lambda width: nn.Sequential(*_conv(1, width, 3, 2)),
    # A 4x4 patch embedding, then one strided 3x3: 224 -> 56 -> 28, cheap enough for a CPU.
    224: lambda width: nn.Sequential(*_conv(1, width // 2, 4, 4), *_conv(width // 2, width, 3, 2)),
}
"""Input size -> the stem for it (argument: the first stage's width)."""


class SmallResNet(nn.Module):
    """Stem, three stages of basic blocks, global average pooling, dropout, a linear head.

    Args:
        input_size: the side of the square greyscale input; one of `STEMS`.
        outputs: logits out (classes, or labels of a multi-label task).
        blocks: basic blocks per stage.
        dropout: before the head, in training only.

    Shapes: (N, 1, input_size, input_size) -> (N, outputs); `features` gives the last stage's map,
    which `head` turns into logits (Grad-CAM reads the map between the two).
    """

    def __init__(self, *, input_size: int, outputs: int, blocks: tuple[int, int, int], dropout: float = 0.2) -> None:
        super().__init__()
        if input_size not in STEMS:
            raise ConfigError(f"no stem for input size {input_size}: expected one of {sorted(STEMS)}")
        self.stem = STEMS[input_size](WIDTHS[0])
        layers: list[nn.Module] = []
        channels = WIDTHS[0]
        for stage, (width, count) in enumerate(zip(WIDTHS, blocks, strict=True)):
            for i in range(count):
                layers.append(BasicBlock(channels, width, 2 if stage and i == 0 else 1))
                channels = width
        self.stages = nn.Sequential(*layers)
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(channels, outputs)

    def features(self, x: Tensor) -> Tensor:
        return self.stages(self.stem(x))

    def head(self, features: Tensor) -> Tensor:
        return self.fc(self.dropout(features.mean(dim=(2, 3))))

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x))


ENCODERS: dict[str, Callable[..., SmallResNet]] = {
    "resnet8": partial(SmallResNet, blocks=(1, 1, 1)),
    "resnet14": partial(SmallResNet, blocks=(2, 2, 2)),
}
"""Name -> constructor taking `input_size`, `outputs` and `dropout`."""


def build_network(encoder: str, *, input_size: int, outputs: int, dropout: float = 0.2) -> SmallResNet:
    try:
        make = ENCODERS[encoder]
    except KeyError:
        raise ConfigError(f"unknown image encoder {encoder!r}: expected one of {', '.join(ENCODERS)}") from None
    return make(input_size=input_size, outputs=outputs, dropout=dropout)
