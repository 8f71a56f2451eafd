// Bindings of the convert area: batch-norm folding and fire parameters, called with numpy arrays.
#include <pybind11/stl.h>

#include "akq/fold.hpp"
#include "akq/threshold.hpp"
#include "common.hpp"

namespace akq_bindings {

namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

std::vector<float> optional_floats(const py::object& values) {
    return values.is_none() ? std::vector<float>{} : from_numpy<float>(values.cast<FloatArray>());
}

py::array_t<float> scaled_kernel(const FloatArray& kernel, const FloatArray& g) {
    py::array_t<float> out(std::vector<py::ssize_t>(kernel.shape(), kernel.shape() + kernel.ndim()));
    std::copy(kernel.data(), kernel.data() + kernel.size(), out.mutable_data());
    akq::scale_output_channels(out.mutable_data(), static_cast<size_t>(out.size()), from_numpy<float>(g));
    return out;
}

py::array_t<int8_t> negated_channels(const py::array_t<int8_t, py::array::c_style | py::array::forcecast>& w,
                                     const FloatArray& g) {
    py::array_t<int8_t> out(std::vector<py::ssize_t>(w.shape(), w.shape() + w.ndim()));
    std::copy(w.data(), w.data() + w.size(), out.mutable_data());
    akq::negate_negative_channels(out.mutable_data(), static_cast<size_t>(out.size()), from_numpy<float>(g));
    return out;
}

py::tuple fire_parameters(const FloatArray& scale_factor, bool per_axis, int32_t filters, double input_scale,
                          double input_shift, const py::object& bias, const py::object& weight_sums,
                          bool activation, int32_t act_bits, float act_step, int64_t pooled_positions,
                          const py::object& channel_scale) {
    akq::FireInputs in;
    in.scale_factor = from_numpy<float>(scale_factor);
    in.per_axis = per_axis;
    in.channel_scale = optional_floats(channel_scale);
    in.input_scale = input_scale;
    in.input_shift = input_shift;
    in.bias = optional_floats(bias);
    if (!weight_sums.is_none())
        in.weight_sums = from_numpy<int64_t>(
            weight_sums.cast<py::array_t<int64_t, py::array::c_style | py::array::forcecast>>());
    in.activation = activation;
    in.act_bits = act_bits;
    in.act_step = act_step;
    in.pooled_positions = pooled_positions;
    akq::FireParameters out;
    {
        py::gil_scoped_release release;
        out = akq::fire_parameters(in, filters);
    }
    const auto n = static_cast<py::ssize_t>(filters);
    return py::make_tuple(to_numpy(out.threshold, {n}), to_numpy(out.act_step, {n}), to_numpy(out.potential_step, {n}));
}

}  // namespace

void bind_convert(py::module_& m) {
    m.def("batchnorm_scale",
          [](const FloatArray& gamma, const FloatArray& variance, double epsilon) {
              auto g = akq::batchnorm_scale(from_numpy<float>(gamma), from_numpy<float>(variance), epsilon);
              return to_numpy(g, {static_cast<py::ssize_t>(g.size())});
          },
          py::arg("gamma"), py::arg("variance"), py::arg("epsilon"),
          "Per-channel batch-norm scale gamma / sqrt(variance + epsilon) in float32.");
    m.def("scale_output_channels", &scaled_kernel, py::arg("kernel"), py::arg("g"),
          "A copy of `kernel` with its last axis multiplied by g (float32).");
    m.def("fold_bias",
          [](const py::object& bias, const FloatArray& beta, const FloatArray& mean, const FloatArray& g) {
              auto b = akq::fold_bias(optional_floats(bias), from_numpy<float>(beta), from_numpy<float>(mean),
                                      from_numpy<float>(g));
              return to_numpy(b, {static_cast<py::ssize_t>(b.size())});
          },
          py::arg("bias"), py::arg("beta"), py::arg("mean"), py::arg("g"),
          "beta + (bias - mean) * g in float32 (bias None: the layer had no bias).");
    m.def("negate_negative_channels", &negated_channels, py::arg("weights"), py::arg("g"),
          "A copy of int8 `weights` with the output channels where g < 0 negated.");
    m.def("fire_parameters", &fire_parameters, py::arg("scale_factor"), py::arg("per_axis"), py::arg("filters"),
          py::arg("input_scale") = 1.0, py::arg("input_shift") = 0.0, py::arg("bias") = py::none(),
          py::arg("weight_sums") = py::none(), py::arg("activation") = true, py::arg("act_bits") = 1,
          py::arg("act_step") = 1.0f, py::arg("pooled_positions") = 1, py::arg("channel_scale") = py::none(),
          "(threshold int32, act_step float32, potential units per Keras step float64) per filter (docs/spec B.6).");
}

}  // namespace akq_bindings
