// The one exception type of the core. Its kind says which akq.errors class the binding raises.
#pragma once
#include <stdexcept>
#include <string>

namespace akq {

enum class ErrorKind {
    InvalidArgument,  // bad layer parameters or variables            -> akq.errors.LayerError
    Input,            // bad input to forward/predict                  -> akq.errors.InputError
    ModelFile,        // truncated, corrupted or unknown .akq bytes     -> akq.errors.ModelFileError
    Hardware,         // a layer or value the AKD1000 cannot take       -> akq.errors.HardwareError
    Engine,           // a model the engine cannot run (e.g. zero step) -> akq.errors.EngineError
    Quantization,     // a bad kernel, scale factor or bitwidth to quantize -> akq.errors.QuantizationError
    Learning,         // a model or optimizer that cannot learn         -> akq.errors.LearningError
    LearningState,    // learning not compiled, a label out of range    -> akq.errors.LearningStateError
    Path,             // a path akq will not read or replace (not a regular file) -> akq.errors.PathError
};

class Error : public std::runtime_error {
public:
    Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const noexcept { return kind_; }

private:
    ErrorKind kind_;
};

}  // namespace akq
