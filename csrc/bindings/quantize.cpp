// akq._core quantize kernels (docs/spec A.1): numpy in, numpy out, no copy of a C-contiguous float32
// kernel, the GIL released while the C++ loops run. Bad input raises akq.errors.QuantizationError.
#include "akq/quantize.hpp"

#include <string>

#include "akq/error.hpp"
#include "common.hpp"

namespace akq_bindings {

namespace {

using FloatArray = py::array_t<float, py::array::c_style>;

[[noreturn]] void fail(const std::string& function, const std::string& message) {
    throw akq::Error(akq::ErrorKind::Quantization, function + ": " + message);
}

// Runs a core call without the GIL; its errors name the Python function.
template <class Call>
auto run_released(const std::string& function, Call&& call) {
    try {
        py::gil_scoped_release release;
        return call();
    } catch (const akq::Error& e) {
        throw akq::Error(e.kind(), function + ": " + e.what());
    }
}

// The kernel as a C-contiguous float32 array: the same object when it already is one.
FloatArray kernel_array(const py::object& w, const std::string& function) {
    const py::array array = py::array::ensure(w);
    if (!array) fail(function, "the kernel must be a numpy array, got " + std::string(py::str(py::type::of(w))));
    if (!array.dtype().is(py::dtype::of<float>()))
        fail(function, "the kernel must be a float32 array, got " + std::string(py::str(array.dtype())) +
                           "; convert it with w.astype(np.float32)");
    if (array.ndim() == 0) fail(function, "the kernel must have at least one axis (the last one holds the channels)");
    return FloatArray::ensure(array);  // copies only a non-contiguous array
}

akq::KernelView kernel_view(const FloatArray& w) {
    return {w.data(), static_cast<std::size_t>(w.size()), static_cast<std::size_t>(w.shape(w.ndim() - 1))};
}

// The scale factor as a float32 array of shape () or (n,); a Python float is rounded to float32.
FloatArray scale_array(const py::object& sf, const std::string& function) {
    if (py::isinstance<py::float_>(sf) || py::isinstance<py::int_>(sf)) {
        FloatArray scalar(std::vector<py::ssize_t>{});
        *scalar.mutable_data() = sf.cast<float>();
        return scalar;
    }
    const py::array array = py::array::ensure(sf);
    if (!array || !array.dtype().is(py::dtype::of<float>()))
        fail(function, "the scale factor must be a Python float or a float32 array, got " +
                           std::string(py::str(array ? py::object(array.dtype()) : py::type::of(sf))));
    if (array.ndim() > 1)
        fail(function, "the scale factor must be a scalar or a 1-D array (one value per output channel), got " +
                           std::to_string(array.ndim()) + " axes");
    return FloatArray::ensure(array);
}

std::vector<py::ssize_t> shape_of(const FloatArray& a) { return {a.shape(), a.shape() + a.ndim()}; }

py::array_t<float> scale_factor(const py::object& w, bool per_axis, int bitwidth) {
    const FloatArray kernel = kernel_array(w, "scale_factor");
    const std::vector<float> sf =
        run_released("scale_factor", [&] { return akq::max_scale_factors(kernel_view(kernel), per_axis, bitwidth); });
    if (!per_axis) return to_numpy(sf, {});
    return to_numpy(sf, {static_cast<py::ssize_t>(sf.size())});
}

py::array_t<int8_t> quantize_int8(const py::object& w, const py::object& sf, int bitwidth) {
    const FloatArray kernel = kernel_array(w, "quantize_int8");
    const FloatArray scale = scale_array(sf, "quantize_int8");
    py::array_t<int8_t> out(shape_of(kernel));
    int8_t* out_data = out.mutable_data();
    run_released("quantize_int8", [&] {
        akq::quantize_int8(kernel_view(kernel), {scale.data(), static_cast<std::size_t>(scale.size())}, bitwidth,
                           out_data);
    });
    return out;
}

}  // namespace

void bind_quantize(py::module_& m) {
    m.def("scale_factor", &scale_factor, py::arg("w"), py::arg("per_axis"), py::arg("bitwidth"),
          R"doc(Scale factor of MaxQuantizer (per_axis False) or MaxPerAxisQuantizer (True), float32 (docs/spec A.1).

w: float32 kernel of any rank >= 1, last axis = output channels (not copied if C-contiguous).
per_axis: False -> shape (); True -> shape (channels,), reducing over all axes but the last.
bitwidth: 2..8; kmax = 2^(bitwidth-1) - 1.

Returns clip(kmax / clamp(max |w|, RANGE_MIN, FLT_MAX), 0, SCALE_FACTOR_MAX), bit-identical to
TensorFlow's float32 ops. Raises akq.errors.QuantizationError for a bad dtype, bitwidth, an empty
kernel or non-finite weights.)doc");
    m.def("quantize_int8", &quantize_int8, py::arg("w"), py::arg("sf"), py::arg("bitwidth"),
          R"doc(Integer weights clip(rne(w * sf), -kmax, kmax) as a new int8 array of w's shape.

w: float32 kernel, last axis = output channels (not copied if C-contiguous).
sf: positive finite scale factor: a Python float, a float32 scalar array, or a float32 array of
    shape (1,) or (channels,) (e.g. the output of scale_factor, or a custom quantizer's).
bitwidth: 2..8.
The product is a float32 product and rne rounds half to even, as tf.round. Raises
akq.errors.QuantizationError for a bad dtype, sf length, sf value, bitwidth or non-finite weights.)doc");
    m.attr("SCALE_FACTOR_MAX") = akq::kScaleFactorMax;
    m.attr("RANGE_MIN") = akq::kRangeMin;
}

}  // namespace akq_bindings
