"""What a run's first task hands every later task: its validated params and its window, as XCom JSON.

``validate_params`` (the first task of every DAG) turns the trigger's params into a pydantic model and the
run into a :class:`~genesys_pipelines.windows.Window`, and passes them on as plain JSON; every later task
rehydrates them with :meth:`RunSpec.load`, the one place that does so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from genesys_pipelines.windows import Window

P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True)
class RunSpec(Generic[P]):
    params: P
    window: Window

    def to_xcom(self) -> dict[str, Any]:
        return {"params": self.params.model_dump(mode="json"), "window": self.window.to_dict()}

    @classmethod
    def load(cls, data: Mapping[str, Any], model: type[P]) -> RunSpec[P]:
        """The spec from its XCom JSON (``{"params", "window"}``), params re-validated by ``model``."""
        return cls(params=model.model_validate(data["params"]), window=Window.from_dict(data["window"]))
