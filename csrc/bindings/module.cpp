// akq._core: the Python face of the C++ core. Each area binds itself in its own file.
#include <cstring>

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
        case akq::ErrorKind::Learning: return "LearningError";
        case akq::ErrorKind::LearningState: return "LearningStateError";
        case akq::ErrorKind::Path: return "PathError";
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
            // a message may quote a path that is not UTF-8: show its odd bytes as \xNN escapes
            const py::object message = py::reinterpret_steal<py::object>(
                PyUnicode_DecodeUTF8(e.what(), static_cast<py::ssize_t>(std::strlen(e.what())), "backslashreplace"));
            PyErr_SetObject(cls.ptr(), message.ptr());
        }
    });
    akq_bindings::bind_model(m);
    akq_bindings::bind_quantize(m);
    akq_bindings::bind_convert(m);
    akq_bindings::bind_engine(m);
    akq_bindings::bind_io(m);
    akq_bindings::bind_device(m);
    akq_bindings::bind_learning(m);
}
