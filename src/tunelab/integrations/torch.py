"""The PyTorch backend of :class:`~tunelab.integrations.estimator.AutoEstimator`.

torch is imported inside the functions here, in the trial process or when a model is loaded.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tunelab.errors import ConfigError

CHECKPOINT_FILE = "checkpoint.pt"


class TorchBackend:
    """Builds and trains ``model_creator(config)`` with an optimizer and a loss given by name or creator."""

    framework = "torch"

    def __init__(self, model_creator: Callable[[dict[str, Any]], Any], optimizer: Any, loss: Any) -> None:
        if not callable(model_creator):
            raise ConfigError(f"from_torch: model_creator must be a function of the config, got {model_creator!r}")
        if not (callable(optimizer) or isinstance(optimizer, str)):
            raise ConfigError(
                f"from_torch: optimizer must be a creator function or a name such as 'Adam', got {optimizer!r}"
            )
        if isinstance(optimizer, str):
            _optimizer_class(optimizer)  # an unknown name fails now, not in every trial
        if loss is None:
            raise ConfigError("from_torch: loss is required (a torch loss such as nn.CrossEntropyLoss())")
        if isinstance(loss, str):
            _loss_class(loss)
        self.model_creator, self.optimizer, self.loss = model_creator, optimizer, loss

    def session(self, config: dict[str, Any], data: Any, validation_data: Any, threads: int) -> TorchSession:
        return TorchSession(self, config, data, validation_data, threads)

    def load_model(self, config: dict[str, Any], folder: Path, data: Any) -> Any:
        import torch

        model = self.model_creator(dict(config))
        state = torch.load(folder / CHECKPOINT_FILE, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        return model.eval()


class TorchSession:
    """One configuration training in a trial process."""

    def __init__(self, backend: TorchBackend, config: dict[str, Any], data: Any, validation_data: Any, threads: int):
        import torch

        from tunelab.trial import get_trial_seed

        torch.set_num_threads(threads)
        seed = get_trial_seed()
        if seed is not None:
            torch.manual_seed(seed)
        self.torch = torch
        self.model = backend.model_creator(dict(config))
        if isinstance(backend.optimizer, str):
            self.optimizer = _optimizer_class(backend.optimizer)(self.model.parameters(), lr=config.get("lr", 1e-3))
        else:
            self.optimizer = backend.optimizer(self.model, dict(config))
        self.loss = _make_loss(backend.loss, config)
        self.train_loader = _loader(data, config, shuffle=True)
        self.val_loader = (
            self.train_loader if validation_data is None else _loader(validation_data, config, shuffle=False)
        )

    def train_epoch(self) -> None:
        self.model.train()
        for x, y in self.train_loader:
            self.optimizer.zero_grad()
            self.loss(self.model(x), y).backward()
            self.optimizer.step()

    def evaluate(self) -> tuple[Any, Any, float]:
        import numpy as np

        self.model.eval()
        truths, outputs, total, count = [], [], 0.0, 0
        with self.torch.no_grad():
            for x, y in self.val_loader:
                out = self.model(x)
                total += float(self.loss(out, y)) * len(y)
                count += len(y)
                truths.append(y.cpu().numpy())
                outputs.append(out.cpu().numpy())
        return np.concatenate(truths), np.concatenate(outputs), total / max(count, 1)

    def save(self, folder: Path) -> None:
        state = {"model": self.model.state_dict(), "optimizer": self.optimizer.state_dict()}
        tmp = folder / (CHECKPOINT_FILE + ".tmp")
        self.torch.save(state, tmp)
        tmp.replace(folder / CHECKPOINT_FILE)

    def restore(self, folder: Path) -> bool:
        path = folder / CHECKPOINT_FILE
        if not path.is_file():
            return False
        state = self.torch.load(path, map_location="cpu", weights_only=True)
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        return True


def _optimizer_class(name: str) -> Any:
    import torch

    cls = getattr(torch.optim, name, None)
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        names = [n for n in dir(torch.optim) if isinstance(getattr(torch.optim, n), type) and n[0].isupper()]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"from_torch: optimizer {name!r} is not a torch.optim optimizer{hint}")
    return cls


def _loss_class(name: str) -> Any:
    import torch

    cls = getattr(torch.nn, name, None)
    if not (isinstance(cls, type) and issubclass(cls, torch.nn.Module) and name.endswith("Loss")):
        names = [n for n in dir(torch.nn) if n.endswith("Loss")]
        close = difflib.get_close_matches(name, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(f"from_torch: loss {name!r} is not a torch.nn loss{hint}")
    return cls


def _make_loss(loss: Any, config: dict[str, Any]) -> Any:
    import torch

    if isinstance(loss, str):
        return _loss_class(loss)()
    if isinstance(loss, torch.nn.Module):
        return loss
    return loss(dict(config))  # a loss creator


def _loader(data: Any, config: dict[str, Any], *, shuffle: bool) -> Any:
    """A DataLoader from a data creator ``(config) -> DataLoader`` or from ``(x, y)`` arrays."""
    import numpy as np
    import torch

    if isinstance(data, torch.utils.data.DataLoader):  # Orca also takes a DataLoader as it is
        return data
    if callable(data):
        return data(dict(config))
    if not (isinstance(data, (tuple, list)) and len(data) == 2):
        raise ConfigError(
            f"fit: data must be (x, y) arrays, a DataLoader or a data creator function, got {type(data).__name__}"
        )
    x, y = (np.asarray(a) for a in data)
    if len(x) != len(y):
        raise ConfigError(f"fit: x and y must have as many samples, got {len(x)} and {len(y)}")
    tensors = [
        torch.as_tensor(a, dtype=torch.long if np.issubdtype(a.dtype, np.integer) else torch.float32) for a in (x, y)
    ]
    if np.issubdtype(x.dtype, np.integer):
        tensors[0] = tensors[0].float()
    batch_size = int(config.get("batch_size", 32))
    generator = torch.Generator().manual_seed(int(torch.initial_seed() % 2**63))
    return torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(*tensors), batch_size=batch_size, shuffle=shuffle, generator=generator
    )
