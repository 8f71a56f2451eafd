// Bindings of the device area: the AKD1000 description, mapping, limit checks and performance model.
#include <pybind11/stl.h>

#include "akq/device/akd1000.hpp"
#include "akq/device/capacity.hpp"
#include "akq/device/constraints.hpp"
#include "akq/device/mapper.hpp"
#include "akq/device/performance.hpp"
#include "akq/device/ranges.hpp"
#include "common.hpp"

namespace akq_bindings {

namespace dev = akq::device;

namespace {

py::tuple ident_tuple(const dev::NpIdent& i) { return py::make_tuple(i.col, i.row, i.id); }

void bind_description(py::module_& m) {
    py::enum_<dev::NpType>(m, "NpType")
        .value("HRC", dev::NpType::HRC)
        .value("CNP1", dev::NpType::CNP1)
        .value("CNP2", dev::NpType::CNP2)
        .value("FNP2", dev::NpType::FNP2)
        .value("FNP3", dev::NpType::FNP3);
    py::class_<dev::NeuralProcessor>(m, "NeuralProcessor")
        .def_property_readonly("ident", [](const dev::NeuralProcessor& n) { return ident_tuple(n.ident); })
        .def_readonly("types", &dev::NeuralProcessor::types);
    py::class_<dev::Device>(m, "Device")
        .def_readonly("name", &dev::Device::name)
        .def_readonly("version", &dev::Device::version)
        .def_property_readonly("hrc", [](const dev::Device& d) { return ident_tuple(d.hrc); })
        .def_readonly("nps", &dev::Device::nps);
    m.def("akd1000", &dev::akd1000_device, "The virtual AKD1000: 78 NPs and the HRC (docs/spec D.1)");
}

void bind_mapping(py::module_& m) {
    py::enum_<dev::Backend>(m, "Backend")
        .value("Hardware", dev::Backend::Hardware)
        .value("Software", dev::Backend::Software);
    py::class_<dev::NpAllocation>(m, "NpAllocation")
        .def_property_readonly("ident", [](const dev::NpAllocation& n) { return ident_tuple(n.ident); })
        .def_readonly("type", &dev::NpAllocation::type)
        .def_readonly("filters", &dev::NpAllocation::filters);
    py::class_<dev::LayerMapping>(m, "LayerMapping")
        .def_readonly("layer", &dev::LayerMapping::layer)
        .def_readonly("nps", &dev::LayerMapping::nps);
    py::class_<dev::Sequence>(m, "Sequence")
        .def_readonly("name", &dev::Sequence::name)
        .def_readonly("backend", &dev::Sequence::backend)
        .def_readonly("passes", &dev::Sequence::passes)
        .def_readonly("program_bytes", &dev::Sequence::program_bytes);
    py::class_<dev::Mapping>(m, "Mapping")
        .def_readonly("sequences", &dev::Mapping::sequences)
        .def_readonly("layers", &dev::Mapping::layers);
    py::enum_<dev::ProblemKind>(m, "ProblemKind")
        .value("Mapping", dev::ProblemKind::Mapping)
        .value("Programming", dev::ProblemKind::Programming);
    py::class_<dev::Problem>(m, "HardwareProblem")
        .def_readonly("layer", &dev::Problem::layer)
        .def_readonly("kind", &dev::Problem::kind)
        .def_readonly("reason", &dev::Problem::reason)
        .def_readonly("hint", &dev::Problem::hint)
        .def_property_readonly("message", &dev::Problem::message);
    py::class_<dev::CnpSplit>(m, "CnpSplit")
        .def_readonly("strips", &dev::CnpSplit::strips)
        .def_readonly("strip_width", &dev::CnpSplit::strip_width)
        .def_readonly("max_filters_per_np", &dev::CnpSplit::max_filters_per_np)
        .def_readonly("filters", &dev::CnpSplit::filters)
        .def_readonly("problem", &dev::CnpSplit::problem);
    py::enum_<dev::MapMode>(m, "MapMode").value("Minimal", dev::MapMode::Minimal).value("AllNps", dev::MapMode::AllNps);
    m.def("map_model", &dev::map_model, py::arg("model"), py::arg("device"), py::arg("hw_only"),
          py::arg("mode") = dev::MapMode::Minimal);
    m.def("check_hardware", &dev::check_hardware, py::arg("model"));
    m.def("split_cnp_layer", &dev::split_cnp_layer, py::arg("layer"), py::arg("filter_groups") = 1,
          py::arg("input_bits") = 4);
    py::class_<dev::FireRangeReport>(m, "FireRangeReport")
        .def_readonly("threshold_bits", &dev::FireRangeReport::threshold_bits)
        .def_readonly("thresholds_out_of_range", &dev::FireRangeReport::thresholds_out_of_range)
        .def_readonly("worst_threshold", &dev::FireRangeReport::worst_threshold)
        .def_readonly("step_bits", &dev::FireRangeReport::step_bits)
        .def_readonly("steps_out_of_range", &dev::FireRangeReport::steps_out_of_range)
        .def_readonly("worst_step", &dev::FireRangeReport::worst_step);
    m.def("fire_range_report", &dev::fire_range_report, py::arg("layer"),
          "Thresholds and steps of a layer that the AKD1000 cannot store (docs/spec D.4, device/ranges.hpp).");
}

void bind_performance(py::module_& m) {
    py::class_<dev::LayerActivity>(m, "LayerActivity")
        .def(py::init<>())
        .def_readwrite("input_events", &dev::LayerActivity::input_events)
        .def_readwrite("output_events", &dev::LayerActivity::output_events)
        .def_readwrite("synaptic_ops", &dev::LayerActivity::synaptic_ops);
    py::class_<dev::LayerPerformance>(m, "LayerPerformance")
        .def_readonly("layer", &dev::LayerPerformance::layer)
        .def_readonly("backend", &dev::LayerPerformance::backend)
        .def_readonly("nps", &dev::LayerPerformance::nps)
        .def_readonly("input_events", &dev::LayerPerformance::input_events)
        .def_readonly("output_events", &dev::LayerPerformance::output_events)
        .def_readonly("synaptic_ops", &dev::LayerPerformance::synaptic_ops)
        .def_readonly("cycles", &dev::LayerPerformance::cycles)
        .def_readonly("bottleneck_np", &dev::LayerPerformance::bottleneck_np)
        .def_readonly("dynamic_energy_j", &dev::LayerPerformance::dynamic_energy_j)
        .def_readonly("program_bytes", &dev::LayerPerformance::program_bytes);
    py::class_<dev::PerformanceReport>(m, "PerformanceReport")
        .def_readonly("layers", &dev::PerformanceReport::layers)
        .def_readonly("frame_cycles", &dev::PerformanceReport::frame_cycles)
        .def_readonly("pipeline_cycles", &dev::PerformanceReport::pipeline_cycles)
        .def_readonly("bottleneck_layer", &dev::PerformanceReport::bottleneck_layer)
        .def_readonly("clock_hz", &dev::PerformanceReport::clock_hz)
        .def_readonly("latency_s", &dev::PerformanceReport::latency_s)
        .def_readonly("frames_per_s", &dev::PerformanceReport::frames_per_s)
        .def_readonly("dynamic_energy_j", &dev::PerformanceReport::dynamic_energy_j)
        .def_readonly("static_energy_j", &dev::PerformanceReport::static_energy_j)
        .def_readonly("program_bytes", &dev::PerformanceReport::program_bytes)
        .def_readonly("hardware_nps", &dev::PerformanceReport::hardware_nps);
    m.def("estimate_performance", &dev::estimate_performance, py::arg("model"), py::arg("mapping"),
          py::arg("activity"), py::arg("clock_hz"));
    m.attr("DEFAULT_CLOCK_HZ") = dev::perf::kDefaultClockHz;
    m.attr("STATIC_POWER_W") = dev::perf::kStaticPowerW;
}

}  // namespace

void bind_device(py::module_& m) {
    bind_description(m);
    bind_mapping(m);
    bind_performance(m);
}

}  // namespace akq_bindings
