// Bindings of the engine: akq._core.Engine (compiled plan), its statistics, and the SIMD level.
// Input validation with readable messages lives in python/akq/engine/runtime.py; here only what the
// C++ side needs to be memory-safe.
#include "akq/engine/engine.hpp"

#include <pybind11/stl.h>

#include "akq/engine/kernels.hpp"
#include "akq/error.hpp"
#include "common.hpp"

namespace akq_bindings {

namespace {

using InputArray = py::array_t<uint8_t, py::array::c_style>;

int64_t checked_batch(const akq::Engine& engine, const InputArray& x) {
    const auto dims = engine.input_dims();
    if (x.ndim() != 4 || x.shape(1) != dims[0] || x.shape(2) != dims[1] || x.shape(3) != dims[2])
        throw akq::Error(akq::ErrorKind::Input, "the engine expects a C-contiguous uint8 array of shape (N, " +
                                                    std::to_string(dims[0]) + ", " + std::to_string(dims[1]) + ", " +
                                                    std::to_string(dims[2]) + ")");
    return x.shape(0);
}

std::vector<py::ssize_t> output_shape(const akq::Engine& engine, int64_t batch) {
    const auto o = engine.output_dims();
    return {batch, o[0], o[1], o[2]};
}

py::array forward(akq::Engine& engine, const InputArray& x, int threads) {
    const int64_t batch = checked_batch(engine, x);
    const auto shape = output_shape(engine, batch);
    if (engine.last_has_activation()) {
        py::array_t<uint8_t> out(shape);
        uint8_t* dst = out.mutable_data();
        py::gil_scoped_release release;
        engine.forward(x.data(), batch, dst, nullptr, threads);
        return out;
    }
    py::array_t<int32_t> out(shape);
    int32_t* dst = out.mutable_data();
    py::gil_scoped_release release;
    engine.forward(x.data(), batch, nullptr, dst, threads);
    return out;
}

py::array predict(akq::Engine& engine, const InputArray& x, int threads) {
    const int64_t batch = checked_batch(engine, x);
    py::array_t<float> out(output_shape(engine, batch));
    float* dst = out.mutable_data();
    py::gil_scoped_release release;
    engine.predict(x.data(), batch, dst, threads);
    return out;
}

}  // namespace

void bind_engine(py::module_& m) {
    py::class_<akq::LayerStatistics>(m, "LayerStatistics")
        .def_readonly("name", &akq::LayerStatistics::name)
        .def_readonly("samples", &akq::LayerStatistics::samples)
        .def_readonly("input_size", &akq::LayerStatistics::input_size)
        .def_readonly("input_events", &akq::LayerStatistics::input_events)
        .def_readonly("output_events", &akq::LayerStatistics::output_events)
        .def_readonly("synaptic_ops", &akq::LayerStatistics::synaptic_ops);

    py::class_<akq::Engine>(m, "Engine", "A model compiled for the integer engine (weights re-laid out).")
        .def(py::init<const akq::ModelSpec&>(), py::arg("spec"))
        .def("forward", &forward, py::arg("inputs"), py::arg("threads") = 0,
             "uint8 activations or int32 potentials (N, O0, O1, F) of the last layer; releases the GIL.")
        .def("predict", &predict, py::arg("inputs"), py::arg("threads") = 0,
             "float32 (p - threshold) / act_step of a last layer without activation; releases the GIL.")
        .def("statistics", &akq::Engine::statistics, "Per-layer counts of the last forward (empty before).")
        .def_property_readonly("input_dims", &akq::Engine::input_dims)
        .def_property_readonly("output_dims", &akq::Engine::output_dims)
        .def_property_readonly("last_has_activation", &akq::Engine::last_has_activation);

    m.def("set_simd_level", &akq::set_simd_level, py::arg("level"),
          "Force the SIMD family of the engine and quantize kernels: 'auto' or one of supported_simd_levels() "
          "(for tests and benchmarks).");
    m.def("simd_level", [] { return akq::simd_level_name(akq::simd_level()); },
          "The family the engine runs (lower than requested if that one failed its self-check).");
    m.def("requested_simd_level", [] { return akq::simd_level_name(akq::requested_simd_level()); });
    m.def("best_simd_level", [] { return akq::simd_level_name(akq::best_simd_level()); });
    m.def("supported_simd_levels", [] {
        std::vector<std::string> names;
        for (akq::SimdLevel l : akq::supported_simd_levels()) names.push_back(akq::simd_level_name(l));
        return names;
    }, "The families this CPU and OS support, scalar first.");
    m.def("simd_fallback_note", &akq::simd_fallback_note, "Empty, or why the engine runs a lower family.");
}

}  // namespace akq_bindings
