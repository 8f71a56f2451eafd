// Edge learning of the last layer (csrc/akq/engine/learning.hpp): compile, add_classes and fit (the
// optimizer's LearningParams are bound with ModelSpec in model.cpp). Argument checks with readable
// messages live in python/akq/model/learning.py.
#include "akq/engine/learning.hpp"

#include <pybind11/stl.h>

#include "common.hpp"

namespace akq_bindings {

namespace {

using SpikeArray = py::array_t<uint8_t, py::array::c_style | py::array::forcecast>;

// (potentials (N, 1, 1, U), counter) after learning from `inputs` (N, D0, D1, C) of the last layer.
py::tuple fit(akq::LayerSpec& layer, const akq::LearningParams& p, const SpikeArray& inputs,
              const std::vector<int32_t>& labels, int64_t counter) {
    const auto& d = layer.input_dims;
    if (inputs.ndim() != 4 || inputs.shape(1) != d[0] || inputs.shape(2) != d[1] || inputs.shape(3) != d[2])
        throw py::value_error("fit: the last layer's inputs must have shape (N, D0, D1, C) of its input_dims");
    const int64_t samples = inputs.shape(0);
    std::vector<int32_t> potentials;
    {
        py::gil_scoped_release release;
        potentials = akq::fit_last_layer(layer, p, inputs.data(), samples, labels, counter);
    }
    return py::make_tuple(to_numpy(potentials, {samples, 1, 1, layer.filters}), counter);
}

}  // namespace

void bind_learning(py::module_& m) {
    m.def("check_learnable", &akq::check_learnable, py::arg("model"), py::arg("params"),
          "Raise LearningError unless the model can learn with the params.");
    m.def("compile_learning", &akq::compile_learning, py::arg("model"), py::arg("params"), py::arg("seed"),
          "Draw the last layer's weights from a seed; set its learning state.");
    m.def("add_learning_classes", &akq::add_learning_classes, py::arg("model"), py::arg("count"), py::arg("seed"),
          "Append classes of new drawn units to the last layer.");
    m.def("fit_last_layer", &fit, py::arg("layer"), py::arg("params"), py::arg("inputs"), py::arg("labels"),
          py::arg("counter"), "Learn from the last layer's inputs; (potentials before each update, counter).");
}

}  // namespace akq_bindings
