// Parked worker threads for the engine's parallel parts. Starting a thread per part and call cost
// about 30 us of CPU and a wake-up of the other core, as much as a whole batch of a small model;
// these workers are started once, wait spinning for a moment after each part (the next call usually
// comes within microseconds), then sleep. Internal to the engine.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>

namespace akq {

// How long an idle worker polls for its next part after one ends, before it sleeps.
constexpr std::chrono::microseconds kWorkerIdleSpin(100);

// Runs part(context, 0) .. part(context, parts - 1) and returns when all are done: part 0 on the
// calling thread, the others on idle workers (started when none is idle). A part the system refuses
// a thread for (process limits, memory) runs on the calling thread. `part` must not throw. Any
// number of threads may call this at once; a forked child starts with no workers.
void run_parts(int64_t parts, void (*part)(const void* context, int64_t index), const void* context);

template <class Part>
void run_parts(int64_t parts, const Part& part) {
    run_parts(parts, [](const void* c, int64_t index) { (*static_cast<const Part*>(c))(index); }, &part);
}

// Helper workers held for one task of many short parallel steps (the layers of one sample): between
// steps they poll, so a step costs a few cache-line hand-overs instead of waking threads. Only the
// thread that made the team may run steps.
class Team {
public:
    explicit Team(int helpers);  // fewer if the system refuses threads
    ~Team();
    Team(const Team&) = delete;
    Team& operator=(const Team&) = delete;

    // Runs part(context, 0) .. part(context, parts - 1), parts < 2^16, and returns when all are done;
    // the calling thread and the helpers take the parts as they come. `part` must not throw.
    void run(int64_t parts, void (*part)(const void* context, int64_t index), const void* context);
    template <class Part>
    void run(int64_t parts, const Part& part) {
        run(parts, [](const void* c, int64_t index) { (*static_cast<const Part*>(c))(index); }, &part);
    }

    struct State;

private:
    std::unique_ptr<State> state_;
    int helpers_ = 0;
};

// The number of cores, asked once (glibc reads sysfs on every std::thread::hardware_concurrency()).
int core_count();

}  // namespace akq
