#include <coin/Cbc_C_Interface.h>
#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

/// Asks the kernel to kill this process when the thread that started it ends (the server's
/// solve thread, or the whole server if it dies), so no solver worker outlives its caller.
/// Returns 0, or -1 if the parent is already gone. (prctl is variadic: Swift cannot call it.)
static inline int cairn_die_with_parent(pid_t parent) {
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) return -1;
    return getppid() == parent ? 0 : -1;
}
