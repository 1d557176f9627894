"""One generic name -> factory registry, shared by verifiers, sandboxes, engines and benchmarks.

Plugins from other packages join through an entry-point group (for example
`rlvr.verifiers`), loaded lazily on the first lookup of an unknown name.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Generic, TypeVar

from rlvr.errors import ConfigError, UnknownNameError

T = TypeVar("T")


class Registry(Generic[T]):
    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._factories: dict[str, Callable[..., T]] = {}
        self._plugins_loaded = entry_point_group is None
        self._lock = threading.Lock()

    def register(
        self, name: str, factory: Callable[..., T] | None = None, *, overwrite: bool = False
    ) -> Callable[..., T] | Callable[[Callable[..., T]], Callable[..., T]]:
        """Register `factory` under `name`; usable as a decorator when `factory` is omitted."""

        def add(f: Callable[..., T]) -> Callable[..., T]:
            if not name or not name.replace("_", "").replace("-", "").isalnum():
                raise ConfigError(f"{self.kind} name", f"{name!r} must be letters, digits, '_' or '-'")
            with self._lock:
                if name in self._factories and not overwrite and self._factories[name] is not f:
                    raise ConfigError(f"{self.kind} name", f"{name!r} is already registered")
                self._factories[name] = f
            return f

        return add(factory) if factory is not None else add

    def get(self, name: str, **options: object) -> T:
        """Build the object registered as `name` with `options`."""
        return self.factory(name)(**options)

    def factory(self, name: str) -> Callable[..., T]:
        if name not in self._factories:
            self._load_plugins()
        try:
            return self._factories[name]
        except KeyError:
            raise UnknownNameError(self.kind, name, list(self._factories)) from None

    def names(self) -> list[str]:
        self._load_plugins()
        return sorted(self._factories)

    def _load_plugins(self) -> None:
        if self._plugins_loaded:
            return
        with self._lock:
            if self._plugins_loaded:
                return
            self._plugins_loaded = True
        for ep in entry_points(group=self.entry_point_group):
            if ep.name not in self._factories:
                self.register(ep.name, ep.load())
