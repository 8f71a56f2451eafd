"""akq.Model: an integer spiking model, built by hand, by `akq.convert()` or from a .akq file."""

from __future__ import annotations

import numpy as np

from .. import _core
from ..device.mapping import map_layers
from ..errors import ArgumentError, LayerError
from . import files
from . import learning as edge_learning
from .inference import Inference, Statistics
from .layers import Layer, LayerType, layer_from_spec

class Model:
    """A sequence of integer layers: the first is InputData or InputConvolutional.

    Build one by hand with `Model()` and `add(layer)` or `Model(layers=[...])`, get one from
    `akq.convert()`, or load one with `Model(filename)` / `akq.load_model(path)`. Run it with `forward`,
    `predict` and `evaluate` (C++ engine, bit-exact with the Akida 1.0 software reference), map it with
    `map(akq.AKD1000())`, store it with `save(path)`. akida's Model methods work too (model/akida_api.py).
    """

    def __init__(self, filename=None, layers=None):
        self._layers: list[Layer] = []
        self._inference = None  # the compiled engine, rebuilt after any change
        self.sequences = None  # set by map()
        self._learning = None  # model/learning.py LearningState once compiled for learning
        if isinstance(filename, (list, tuple)):  # Model([layers]): the list given positionally
            filename, layers = None, filename
        if filename is not None:  # akida's Model(filename), here a .akq file
            loaded = load_model(filename)
            self._layers, self._learning = loaded._layers, loaded._learning
            for layer in self._layers:
                layer._model = self
            return
        try:
            layers = [] if layers is None else list(layers)
        except TypeError:
            raise ArgumentError(f"Model expects a list of akq layers, got {type(layers).__name__}") from None
        for layer in layers:
            if not isinstance(layer, Layer):
                raise LayerError(f"Model expects akq layers (e.g. akq.Convolutional), got {type(layer).__name__}")
        if layers:
            from .akida_api import add_layers

            try:
                add_layers(self, layers)
            except Exception:
                for layer in self._layers:  # the model is discarded: its layers can go into another one
                    layer._model = None
                raise

    # -- structure -------------------------------------------------------------------------------
    def add(self, layer: Layer) -> None:
        """Append `layer`: its input is the previous layer's output; variables start at zero."""
        if not isinstance(layer, Layer):
            raise LayerError(f"Model.add expects an akq layer (e.g. akq.Convolutional), got {type(layer).__name__}")
        if self._learning is not None:
            raise LayerError("the model is compiled for learning: its last layer must stay last; add layers "
                             "before compile")
        if layer._model is not None:
            raise LayerError(f"layer '{layer.name}' already belongs to a model; create a new layer object")
        spec = layer._spec
        index = len(self._layers)
        if not spec.name:
            spec.name = f"{type(layer).__name__.lower()}_{index}"
        if any(other.name == spec.name for other in self._layers):
            raise LayerError(f"layer name '{spec.name}' is already used in this model; names must be unique")
        is_input = spec.type in (LayerType.InputData, LayerType.InputConvolutional)
        if (index == 0) != is_input:
            raise LayerError(
                f"layer '{spec.name}': "
                + ("the first layer must be InputData or InputConvolutional" if index == 0
                   else f"{spec.type.name} can only be the first layer of a model")
            )
        if not is_input:
            spec.input_dims = self._layers[-1]._spec.output_dims
        _core.check_layer_parameters(spec)
        spec.output_dims = _core.output_dims(spec)
        layer._allocate_variables()
        candidate = _core.ModelSpec()
        candidate.layers = [l._spec for l in self._layers] + [spec]
        _core.check_model(candidate)
        layer._model = self
        self._layers.append(layer)
        self._invalidate()

    @classmethod
    def _from_spec(cls, model_spec) -> "Model":
        """Wrap a validated ModelSpec (from the converter or a .akq file)."""
        _core.check_model(model_spec)
        model = cls()
        for spec in model_spec.layers:
            layer = layer_from_spec(spec)
            layer._model = model
            model._layers.append(layer)
        if model_spec.learning is not None:
            model._learning = edge_learning.LearningState(model_spec.learning)
        return model

    @property
    def spec(self):
        """The model as a C++ ModelSpec (the plain data the engine, the files and the mapper take)."""
        spec = _core.ModelSpec()
        spec.layers = [layer._spec for layer in self._layers]
        spec.learning = self._learning.params if self._learning is not None else None
        return spec

    def _invalidate(self, keep_learning=False):
        if self._learning is not None and not keep_learning:
            self._learning.reset()
        self._inference = None
        self.sequences = None
        for layer in self._layers:
            layer.mapping = None

    @property
    def layers(self) -> list[Layer]:
        return list(self._layers)

    def get_layer_count(self) -> int:
        return len(self._layers)

    def pop_layer(self) -> None:
        """Remove the last layer (its variables go with it)."""
        if not self._layers:
            raise LayerError("pop_layer on an empty model")
        self._layers.pop()._model = None
        self._invalidate()

    def get_layer(self, name) -> Layer:
        """The layer called `name` (or at index `name` if it is an int)."""
        if isinstance(name, (int, np.integer)) and not isinstance(name, (bool, np.bool_)):
            if not -len(self._layers) <= name < len(self._layers):
                raise LayerError(f"layer index {name} is out of range: the model has {len(self._layers)} layers")
            return self._layers[name]
        for layer in self._layers:
            if isinstance(name, str) and layer.name == name:
                return layer
        raise LayerError(f"no layer named {name!r}; the layers are {[l.name for l in self._layers]}")

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return self._layers[0].input_dims if self._layers else None

    @property
    def output_shape(self) -> tuple[int, int, int]:
        return self._layers[-1].output_dims if self._layers else None

    # -- running: model/inference.py ---------------------------------------------------------------
    def _engine(self) -> Inference:
        if self._inference is None:
            self._inference = Inference(self.spec, [layer.name for layer in self._layers], self.input_shape)
        return self._inference

    def forward(self, inputs, threads: int | None = None) -> np.ndarray:
        """uint8 activations of the last layer, or its int32 potentials if it has no activation."""
        return self._engine().forward(inputs, threads)

    def predict(self, inputs, threads: int | None = None) -> np.ndarray:
        """float32 (potential - threshold) / act_step of a last layer without activation."""
        return self._engine().predict(inputs, threads)

    def evaluate(self, inputs, labels, threads: int | None = None) -> float:
        """Top-1 accuracy of the model's outputs against integer `labels`."""
        return self._engine().evaluate(inputs, labels, threads)

    @property
    def statistics(self) -> Statistics:
        """Per-layer events, sparsity and synaptic operations of the last forward pass."""
        return self._engine().statistics()

    # -- edge learning: model/learning.py -------------------------------------------------------
    def compile(self, optimizer, seed: int = 0) -> None:
        """Prepare the last layer for learning with `optimizer` (akq.AkidaUnsupervised); its initial
        binary weights are drawn from `seed`."""
        edge_learning.compile(self, optimizer, seed)

    @property
    def learning(self):
        """The AkidaUnsupervised optimizer the model was compiled with, or None."""
        if self._learning is None:
            return None
        return edge_learning.AkidaUnsupervised._from_params(self._learning.params)

    def fit(self, inputs, input_labels=None, batch_size: int = 0) -> np.ndarray:
        """Learn from `inputs` one after the other (labels: one per input, one for all, or None);
        returns the last layer's int32 potentials of each input before its update."""
        return edge_learning.fit(self, inputs, input_labels, batch_size)

    def predict_classes(self, inputs, num_classes: int = 0, batch_size: int = 0) -> np.ndarray:
        """Class of each input: best unit // (units // num_classes); num_classes=0: one per unit."""
        return edge_learning.predict_classes(self, inputs, num_classes, batch_size)

    def add_classes(self, num_add_classes: int, seed: int = 0) -> None:
        """Add classes of new learning units (weights drawn from `seed`), keeping the learned ones."""
        edge_learning.add_classes(self, num_add_classes, seed)

    @property
    def metrics(self):
        """The last inference's frames and, once mapped, its estimated chip clocks and frames/s."""
        from .akida_api import metrics

        return metrics(self)

    # -- files: model/files.py -------------------------------------------------------------------
    def save(self, path) -> None:
        """Write the model to a .akq file (atomically: an interrupted save leaves no corrupt file)."""
        files.write_spec(self.spec, path)

    def to_bytes(self) -> bytes:
        """The .akq file contents of this model."""
        return files.spec_to_bytes(self.spec)

    @classmethod
    def from_bytes(cls, data: bytes) -> "Model":
        """A model from .akq bytes (validated; ModelFileError if truncated or corrupted)."""
        return cls._from_spec(files.spec_from_bytes(data))

    def to_buffer(self) -> bytes:
        """The model as bytes (akq's .akq format; `Model.from_bytes` reads them back)."""
        return self.to_bytes()

    # -- akida's model dictionary and attributes: model/akida_api.py -----------------------------
    def to_dict(self) -> dict:
        """akida 2.4.0's dictionary of this model (`akida.Model.from_dict` reads it)."""
        from .akida_api import model_to_dict

        return model_to_dict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "Model":
        """The model of an akida 2.4.0 model dictionary (`akida.Model.to_dict` writes one)."""
        from .akida_api import add_from_dict

        model = cls()
        add_from_dict(model, data)
        return model

    def to_json(self) -> str:
        from .akida_api import model_to_json

        return model_to_json(self)

    @classmethod
    def from_json(cls, text: str) -> "Model":
        """The model of akida's `to_json` text."""
        from .akida_api import dict_from_json

        return cls.from_dict(dict_from_json(text))

    @property
    def ip_version(self):
        from .akida_api import IpVersion

        return IpVersion.v1

    def __reduce__(self):
        return (Model.from_bytes, (self.to_bytes(),))

    # -- the akida runtime: interop/akida.py -----------------------------------------------------
    def to_akida(self):
        """This model as an akida.Model (akida's Akida 1.0 layers): save it as .fbz or map it on a board."""
        from ..interop.akida import to_akida

        return to_akida(self)

    # -- hardware: device/mapping.py -------------------------------------------------------------
    def map(self, device, hw_only: bool = False, mode: str = "minimal") -> None:
        """Allocate the layers to the neural processors of `device` (e.g. akq.AKD1000()).

        mode "minimal" uses as few NPs as each layer needs (the reference mapper); "all_nps" then caps the
        filters per NP of every convolution as low as the 78 NPs allow (the default of later akida releases).
        """
        if not self._layers:
            raise LayerError("cannot map an empty model: add layers first")
        mappings, self.sequences = map_layers(self.spec, self._layers, device, hw_only, mode)
        for layer in self._layers:
            layer.mapping = mappings.get(layer.name)

    def summary(self) -> str:
        """Print (and return) akida's summary: the model table, then every sequence with its program size
        and the NPs of each layer (N/A on the HRC or in software); unmapped, one software sequence."""
        from .akida_api import summary_text

        text = summary_text(self)
        print(text, end="")
        return text

    def __repr__(self):
        return f"<akq.Model {self.input_shape} -> {self.output_shape}, {len(self._layers)} layers>"


def load_model(path) -> Model:
    """Load the `akq.Model` saved at `path` (ModelFileError if the file is not a valid .akq model)."""
    return Model._from_spec(files.read_spec(path))
