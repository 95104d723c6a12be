"""Random numbers: `Generator`, `manual_seed`, and the process-wide default generator."""

from __future__ import annotations

from typing import Any

from ._backend import np


class Generator:
    """A seeded source of random numbers (PCG64), as `torch.Generator`."""

    def __init__(self, device: Any = "cpu") -> None:
        self.device = device
        self._seed = 67280421310721
        self._rng: Any = None

    @property
    def rng(self) -> Any:
        """The NumPy Generator, made on first use (numpy.random is slow to import)."""
        if self._rng is None:
            self._rng = np.random.Generator(np.random.PCG64(self._seed))
        return self._rng

    @rng.setter
    def rng(self, value: Any) -> None:
        self._rng = value

    def manual_seed(self, seed: int) -> Generator:
        """Reset to a reproducible stream; returns self."""
        self._seed = int(seed)
        self._rng = None
        return self

    def seed(self) -> int:
        """Reseed from the OS entropy; returns the new seed."""
        seed = int(np.random.SeedSequence().entropy % (2**63))
        self.manual_seed(seed)
        return seed

    def initial_seed(self) -> int:
        """The seed last set."""
        return self._seed

    def get_state(self) -> Any:
        """The full state as a uint8 tensor (restore it with set_state)."""
        import json

        from .ops.creation import from_numpy

        text = json.dumps({"seed": self._seed, "state": self.rng.bit_generator.state})
        return from_numpy(np.frombuffer(text.encode(), dtype=np.uint8).copy())

    def set_state(self, state: Any) -> Generator:
        """Restore a state from get_state()."""
        import json

        data = json.loads(bytes(np.asarray(state._data, dtype=np.uint8)).decode())
        self._seed = data["seed"]
        self.rng = np.random.Generator(np.random.PCG64())
        self.rng.bit_generator.state = data["state"]
        return self


default_generator = Generator()


def gen(generator: Generator | None = None) -> Any:
    """The NumPy Generator behind `generator` (or the default one)."""
    return (generator or default_generator).rng


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (what rand, randn, dropout, shuffling use)."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    """Seed the default generator from OS entropy."""
    return default_generator.seed()


def initial_seed() -> int:
    """The default generator's seed."""
    return default_generator.initial_seed()


def get_rng_state() -> Any:
    """The default generator's state as a uint8 tensor."""
    return default_generator.get_state()


def set_rng_state(state: Any) -> None:
    """Restore the default generator's state."""
    default_generator.set_state(state)
