// Bindings of the quantize area (filled in by its issue).
#include "common.hpp"

namespace akq_bindings {

void bind_quantize(py::module_& m) { (void)m; }

}  // namespace akq_bindings
