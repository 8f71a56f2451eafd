// ModelSpec / LayerSpec: the integer model as plain data, shared by engine, io and device.
#include "akq/model.hpp"

#include <pybind11/stl.h>

#include "common.hpp"

namespace akq_bindings {

namespace {

py::array_t<int8_t> tensor_to_numpy(const akq::Int8Tensor& t) {
    return to_numpy(t.data, {t.shape[0], t.shape[1], t.shape[2], t.shape[3]});
}

akq::Int8Tensor tensor_from_numpy(const py::array_t<int8_t, py::array::c_style | py::array::forcecast>& a) {
    if (a.ndim() != 4) throw py::value_error("weights must be a 4-D int8 array");
    akq::Int8Tensor t;
    for (int i = 0; i < 4; ++i) t.shape[i] = static_cast<int32_t>(a.shape(i));
    t.data = from_numpy<int8_t>(a);
    return t;
}

}  // namespace

void bind_model(py::module_& m) {
    py::enum_<akq::LayerType>(m, "LayerType")
        .value("InputData", akq::LayerType::InputData)
        .value("InputConvolutional", akq::LayerType::InputConvolutional)
        .value("Convolutional", akq::LayerType::Convolutional)
        .value("SeparableConvolutional", akq::LayerType::SeparableConvolutional)
        .value("FullyConnected", akq::LayerType::FullyConnected);
    py::enum_<akq::Padding>(m, "Padding").value("Valid", akq::Padding::Valid).value("Same", akq::Padding::Same);
    py::enum_<akq::PoolType>(m, "PoolType")
        .value("NoPooling", akq::PoolType::NoPooling)
        .value("Max", akq::PoolType::Max)
        .value("Average", akq::PoolType::Average);

    py::class_<akq::LayerSpec>(m, "LayerSpec")
        .def(py::init<>())
        .def_readwrite("name", &akq::LayerSpec::name)
        .def_readwrite("type", &akq::LayerSpec::type)
        .def_readwrite("input_dims", &akq::LayerSpec::input_dims)
        .def_readwrite("output_dims", &akq::LayerSpec::output_dims)
        .def_readwrite("input_bits", &akq::LayerSpec::input_bits)
        .def_readwrite("kernel_size", &akq::LayerSpec::kernel_size)
        .def_readwrite("kernel_stride", &akq::LayerSpec::kernel_stride)
        .def_readwrite("padding", &akq::LayerSpec::padding)
        .def_readwrite("pool_type", &akq::LayerSpec::pool_type)
        .def_readwrite("pool_size", &akq::LayerSpec::pool_size)
        .def_readwrite("pool_stride", &akq::LayerSpec::pool_stride)
        .def_readwrite("filters", &akq::LayerSpec::filters)
        .def_readwrite("weights_bits", &akq::LayerSpec::weights_bits)
        .def_readwrite("activation", &akq::LayerSpec::activation)
        .def_readwrite("act_bits", &akq::LayerSpec::act_bits)
        .def_readwrite("padding_value", &akq::LayerSpec::padding_value)
        .def_property(
            "weights", [](const akq::LayerSpec& l) { return tensor_to_numpy(l.weights); },
            [](akq::LayerSpec& l, py::object a) { l.weights = tensor_from_numpy(a); })
        .def_property(
            "weights_pw", [](const akq::LayerSpec& l) { return tensor_to_numpy(l.weights_pw); },
            [](akq::LayerSpec& l, py::object a) { l.weights_pw = tensor_from_numpy(a); })
        .def_property(
            "threshold",
            [](const akq::LayerSpec& l) {
                return to_numpy(l.threshold, {static_cast<py::ssize_t>(l.threshold.size())});
            },
            [](akq::LayerSpec& l, const py::array_t<int32_t, py::array::c_style | py::array::forcecast>& a) {
                l.threshold = from_numpy<int32_t>(a);
            })
        .def_property(
            "act_step",
            [](const akq::LayerSpec& l) {
                return to_numpy(l.act_step, {static_cast<py::ssize_t>(l.act_step.size())});
            },
            [](akq::LayerSpec& l, const py::array_t<float, py::array::c_style | py::array::forcecast>& a) {
                l.act_step = from_numpy<float>(a);
            })
        .def_property(
            "threshold_learning",
            [](const akq::LayerSpec& l) {
                return to_numpy(l.threshold_learning, {static_cast<py::ssize_t>(l.threshold_learning.size())});
            },
            [](akq::LayerSpec& l, const py::array_t<int32_t, py::array::c_style | py::array::forcecast>& a) {
                l.threshold_learning = from_numpy<int32_t>(a);
            })
        .def_property(
            "thswap",
            [](const akq::LayerSpec& l) { return to_numpy(l.thswap, {static_cast<py::ssize_t>(l.thswap.size())}); },
            [](akq::LayerSpec& l, const py::array_t<int32_t, py::array::c_style | py::array::forcecast>& a) {
                l.thswap = from_numpy<int32_t>(a);
            });

    py::class_<akq::LearningParams>(m, "LearningParams")
        .def(py::init<>())
        .def_readwrite("num_weights", &akq::LearningParams::num_weights)
        .def_readwrite("num_classes", &akq::LearningParams::num_classes)
        .def_readwrite("initial_plasticity", &akq::LearningParams::initial_plasticity)
        .def_readwrite("learning_competition", &akq::LearningParams::learning_competition)
        .def_readwrite("min_plasticity", &akq::LearningParams::min_plasticity)
        .def_readwrite("plasticity_decay", &akq::LearningParams::plasticity_decay);

    py::class_<akq::ModelSpec>(m, "ModelSpec")
        .def(py::init<>())
        .def_readwrite("layers", &akq::ModelSpec::layers)
        .def_readwrite("learning", &akq::ModelSpec::learning);

    m.def("output_dims", &akq::output_dims, "Output (D0, D1, F) of a layer from its parameters and input_dims.");
    m.def("expected_weights_shape", &akq::expected_weights_shape);
    m.def("check_layer_parameters", &akq::check_layer_parameters, "Raise LayerError if a parameter breaks a rule.");
    m.def("check_variables", &akq::check_variables, "Raise LayerError for a bad variable shape or value.");
    m.def("check_model", &akq::check_model, "Raise LayerError for a bad layer or layer chain.");
}

}  // namespace akq_bindings
