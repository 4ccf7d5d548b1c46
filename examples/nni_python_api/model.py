"""The trial of the NNI quickstart: a small PyTorch MLP whose width, learning rate and momentum are tuned.

It reads its hyperparameters with ``nni.get_next_parameter()`` (an empty dict when run
alone, so the defaults below apply), reports the test accuracy after every epoch with
``nni.report_intermediate_result`` and the last one with ``nni.report_final_result``.

The data is offline: scikit-learn's handwritten digits, upsampled from 8x8 to 28x28 so the
images are shaped like FashionMNIST's (1x28x28, ten classes). ``EPOCHS`` and ``SAMPLES``
in the environment shrink the run (the tests use them).
"""

import os

import nni
import torch
from sklearn.datasets import load_digits
from torch import nn
from torch.nn import functional
from torch.utils.data import DataLoader, TensorDataset

params = {
    "features": 512,
    "lr": 0.001,
    "momentum": 0,
}
params.update(nni.get_next_parameter())
print(params)

torch.manual_seed(0)


def offline_digits(samples: int) -> tuple[TensorDataset, TensorDataset]:
    """Train and test sets of 28x28 grey images in [0, 1] with labels 0-9 (four fifths for training)."""
    digits = load_digits()
    images = torch.tensor(digits.images[:samples], dtype=torch.float32).unsqueeze(1) / 16.0
    images = functional.interpolate(images, size=(28, 28), mode="bilinear", align_corners=False)
    labels = torch.tensor(digits.target[:samples], dtype=torch.long)
    cut = len(labels) * 4 // 5
    return TensorDataset(images[:cut], labels[:cut]), TensorDataset(images[cut:], labels[cut:])


training_data, test_data = offline_digits(int(os.environ.get("SAMPLES", 1797)))
batch_size = 64
train_dataloader = DataLoader(training_data, batch_size=batch_size, shuffle=True)
test_dataloader = DataLoader(test_data, batch_size=batch_size)

device = "cuda" if torch.cuda.is_available() else "cpu"


class NeuralNetwork(nn.Module):
    def __init__(self, features: int) -> None:
        super().__init__()
        self.flatten = nn.Flatten()
        self.layers = nn.Sequential(
            nn.Linear(28 * 28, features),
            nn.ReLU(),
            nn.Linear(features, features),
            nn.ReLU(),
            nn.Linear(features, 10),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(self.flatten(x))


model = NeuralNetwork(params["features"]).to(device)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=params["lr"], momentum=params["momentum"])


def train_one_epoch() -> None:
    model.train()
    for images, labels in train_dataloader:
        images, labels = images.to(device), labels.to(device)
        loss = loss_fn(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def accuracy() -> float:
    model.eval()
    correct = 0
    with torch.no_grad():
        for images, labels in test_dataloader:
            images, labels = images.to(device), labels.to(device)
            correct += (model(images).argmax(1) == labels).sum().item()
    return correct / len(test_dataloader.dataset)


for _epoch in range(int(os.environ.get("EPOCHS", 5))):
    train_one_epoch()
    score = accuracy()
    nni.report_intermediate_result(score)
nni.report_final_result(score)
