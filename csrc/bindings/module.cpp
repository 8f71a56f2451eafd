// akq._core: the Python face of the C++ core. Each area binds itself in its own file.
#include "akq/error.hpp"
#include "common.hpp"

namespace py = pybind11;

namespace {

const char* error_class_name(akq::ErrorKind kind) {
    switch (kind) {
        case akq::ErrorKind::InvalidArgument: return "LayerError";
        case akq::ErrorKind::Input: return "InputError";
        case akq::ErrorKind::ModelFile: return "ModelFileError";
        case akq::ErrorKind::Hardware: return "HardwareError";
        case akq::ErrorKind::Engine: return "EngineError";
        case akq::ErrorKind::Quantization: return "QuantizationError";
    }
    return "AkqError";
}

}  // namespace

PYBIND11_MODULE(_core, m) {
    m.doc() = "akq C++ core: quantize kernels, folding, integer engine, .akq files, AKD1000 model";
    m.attr("__version__") = AKQ_VERSION;  // from python/akq/_version.py (CMakeLists.txt)
    py::register_exception_translator([](std::exception_ptr p) {
        try {
            if (p) std::rethrow_exception(p);
        } catch (const akq::Error& e) {
            py::object cls = py::module_::import("akq.errors").attr(error_class_name(e.kind()));
            PyErr_SetString(cls.ptr(), e.what());
        }
    });
    akq_bindings::bind_model(m);
    akq_bindings::bind_quantize(m);
    akq_bindings::bind_convert(m);
    akq_bindings::bind_engine(m);
    akq_bindings::bind_io(m);
    akq_bindings::bind_device(m);
}
