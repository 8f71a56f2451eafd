// Bindings of the device area (filled in by its issue).
#include "common.hpp"

namespace akq_bindings {

void bind_device(py::module_& m) { (void)m; }

}  // namespace akq_bindings
