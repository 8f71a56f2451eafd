// The engine's worker threads (workers.hpp): each worker owns a thread that runs one assigned part at
// a time. Hand-over and completion are an atomic state, polled for a short while (only when there are
// no more parts than cores, and yielding), then waited on under the worker's mutex. A team's helpers
// run one long part each that polls the team's ticket.
#include "akq/engine/workers.hpp"

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <new>
#include <system_error>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

namespace akq {

namespace {

// How long a caller polls for a part to finish before sleeping.
constexpr auto kFinishSpin = std::chrono::microseconds(1000);

// Polls ready() for up to `limit`, yielding the core in between (on a busy machine another thread,
// maybe the very part awaited, may need it); true once it holds.
template <class Ready>
bool spin_until(const Ready& ready, std::chrono::microseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    for (;;) {
        for (int i = 0; i < 4; ++i) {
            if (ready()) return true;
            std::this_thread::yield();
        }
        if (std::chrono::steady_clock::now() >= end) return ready();
    }
}

// Polls ready() with the CPU's spin-wait hint, yielding the core every few dozen polls: a thread
// the poller waits for may share its core (a woken worker often starts on its waker's core).
template <class Ready>
void poll(const Ready& ready) {
    for (int i = 1; !ready(); ++i) {
#if defined(__x86_64__) || defined(__i386__)
        _mm_pause();
#endif
        if (i % 64 == 0) std::this_thread::yield();
    }
}

enum State : int { kIdle, kAssigned, kDone };

struct Worker {
    std::mutex mutex;
    std::condition_variable changed;
    std::atomic<int> state{kIdle};
    void (*part)(const void*, int64_t) = nullptr;
    const void* context = nullptr;
    int64_t index = 0;
    bool spin = false;  // poll for the next part after this one

    void set(int s) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            state.store(s, std::memory_order_release);
        }
        changed.notify_all();
    }
    void wait_for(int s, bool spin_first, std::chrono::microseconds limit) {
        auto ready = [&] { return state.load(std::memory_order_acquire) == s; };
        if (spin_first && spin_until(ready, limit)) return;
        std::unique_lock<std::mutex> lock(mutex);
        changed.wait(lock, ready);
    }
    void loop() {
        bool spin = false;
        for (;;) {
            wait_for(kAssigned, spin, kWorkerIdleSpin);
            spin = this->spin;
            part(context, index);
            set(kDone);
        }
    }
};

// Idle workers. Never destroyed: the threads park for the process's lifetime, and nothing runs
// their destructors at exit while they wait.
struct Pool {
    std::mutex mutex;
    std::vector<Worker*> idle;

    Worker* acquire() {
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (!idle.empty()) {
                Worker* w = idle.back();
                idle.pop_back();
                return w;
            }
        }
        auto* w = new Worker;
        try {
            std::thread([w] { w->loop(); }).detach();
        } catch (...) {
            delete w;
            throw;
        }
        return w;
    }
    void release(Worker* w) {
        std::lock_guard<std::mutex> lock(mutex);
        idle.push_back(w);
    }
};

std::atomic<Pool*> current_pool{nullptr};

// A forked child has none of the parent's threads: it starts a pool of its own (the parent's, whose
// mutex another thread may have held at the fork, is left alone).
void forget_pool_after_fork() { current_pool.store(new Pool); }

Pool& pool() {
    static const bool registered = [] {
        current_pool.store(new Pool);
        pthread_atfork(nullptr, nullptr, forget_pool_after_fork);
        return true;
    }();
    (void)registered;
    return *current_pool.load();
}

}  // namespace

int core_count() {
    static const int n = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    return n;
}

namespace {

// Assigns parts 1 .. parts - 1 to workers, as many as the system gives threads for.
std::vector<Worker*> assign(int64_t parts, void (*part)(const void*, int64_t), const void* context, bool spin) {
    std::vector<Worker*> workers;
    try {
        workers.reserve(static_cast<size_t>(parts - 1));
        for (int64_t i = 1; i < parts; ++i) {
            Worker* w = pool().acquire();
            workers.push_back(w);
            w->part = part, w->context = context, w->index = i, w->spin = spin;
            w->set(kAssigned);
        }
    } catch (const std::system_error&) {
    } catch (const std::bad_alloc&) {
    }
    return workers;
}

void finish(const std::vector<Worker*>& workers, bool spin) {
    for (Worker* w : workers) {
        w->wait_for(kDone, spin, kFinishSpin);
        w->state.store(kIdle, std::memory_order_relaxed);
        pool().release(w);
    }
}

}  // namespace

void run_parts(int64_t parts, void (*part)(const void*, int64_t), const void* context) {
    if (parts <= 1) {
        if (parts == 1) part(context, 0);
        return;
    }
    const bool spin = parts <= core_count();
    const std::vector<Worker*> workers = assign(parts, part, context, spin);
    part(context, 0);
    for (int64_t i = static_cast<int64_t>(workers.size()) + 1; i < parts; ++i) part(context, i);
    finish(workers, spin);
}

// A step's parts are claimed from `ticket` (step number, part count, next part) by the caller and
// the helpers alike, so parts a helper is too late for (asleep, or sharing the caller's core) are
// run by the caller. A claim is a compare-and-swap on the whole ticket, and the fields are rewritten
// only once every part has finished (`remaining`), so a claimed part always reads its own step's.
struct Team::State {
    alignas(64) std::atomic<uint64_t> ticket{0};
    alignas(64) std::atomic<int64_t> remaining{0};
    void (*part)(const void*, int64_t) = nullptr;
    const void* context = nullptr;
    std::atomic<bool> finished{false};
    std::vector<Worker*> workers;

    static uint64_t ticket_of(uint64_t step, int64_t parts) { return step << 32 | static_cast<uint64_t>(parts) << 16; }
    static uint64_t step_of(uint64_t t) { return t >> 32; }

    // Runs parts of step `step` until none is left to claim.
    void work(uint64_t step) {
        uint64_t t = ticket.load(std::memory_order_acquire);
        while (step_of(t) == step && (t & 0xffff) < (t >> 16 & 0xffff)) {
            if (!ticket.compare_exchange_weak(t, t + 1, std::memory_order_acq_rel)) continue;
            part(context, static_cast<int64_t>(t & 0xffff));
            remaining.fetch_sub(1, std::memory_order_acq_rel);
            t = ticket.load(std::memory_order_acquire);
        }
    }

    static void serve(const void* context, int64_t) {
        auto& s = *static_cast<State*>(const_cast<void*>(context));
        for (uint64_t seen = 0;;) {
            poll([&] {
                return s.finished.load(std::memory_order_acquire) ||
                       step_of(s.ticket.load(std::memory_order_acquire)) != seen;
            });
            if (s.finished.load(std::memory_order_acquire)) return;
            seen = step_of(s.ticket.load(std::memory_order_acquire));
            s.work(seen);
        }
    }
};

Team::Team(int helpers) : state_(std::make_unique<State>()) {
    state_->workers = assign(int64_t{helpers} + 1, State::serve, state_.get(), true);
    helpers_ = static_cast<int>(state_->workers.size());
}

Team::~Team() {
    state_->finished.store(true, std::memory_order_release);
    finish(state_->workers, true);
}

void Team::run(int64_t parts, void (*part)(const void*, int64_t), const void* context) {
    if (helpers_ == 0 || parts <= 1) {
        for (int64_t i = 0; i < parts; ++i) part(context, i);
        return;
    }
    State& s = *state_;
    s.part = part, s.context = context;
    s.remaining.store(parts, std::memory_order_relaxed);
    const uint64_t step = State::step_of(s.ticket.load(std::memory_order_relaxed)) + 1;
    s.ticket.store(State::ticket_of(step, parts), std::memory_order_release);
    s.work(step);
    poll([&] { return s.remaining.load(std::memory_order_acquire) == 0; });
}

}  // namespace akq
