// SPDX-License-Identifier: MIT
// Starting the real servers some tests talk to (unbound for DNS, Dovecot for IMAP) as the
// current user: one way to spawn them with their output in a file, and to wait until they serve.
#pragma once

#include <sys/wait.h>

#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <functional>
#include <signal.h>
#include <spawn.h>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace testserver
{

/// Starts `argv` (argv[0] the binary) with standard output and error appended to `logFile`, in
/// a process group of its own when `ownGroup` (so that a stop can end it whole). Returns "" with
/// `pid` set, or why it could not start.
inline std::string spawn(std::vector<std::string> argv, const std::string& logFile, bool ownGroup, pid_t& pid)
{
    std::vector<char*> args;
    for (auto& a : argv)
        args.push_back(a.data());
    args.push_back(nullptr);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 1, logFile.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, 1, 2);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    if (ownGroup) {
        posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attributes, 0);
    }
    const int rc = posix_spawn(&pid, args[0], &actions, &attributes, args.data(), environ);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    if (rc == 0)
        return {};
    pid = 0;
    return "cannot start " + argv[0] + ": " + std::strerror(rc);
}

/// Waits up to 10 s for `ready()`, asked every `everyMs`. Returns "" when it is; else why not:
/// `name` exited (with `log()`), or did not get ready (`notReady` and `log()`).
inline std::string waitReady(pid_t& pid, const std::string& name, const std::function<bool()>& ready,
                             const std::string& notReady, const std::function<std::string()>& log, int everyMs = 20)
{
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (std::chrono::steady_clock::now() < until) {
        int status = 0;
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            pid = 0;
            return name + " exited at start: " + log();
        }
        if (ready())
            return {};
        std::this_thread::sleep_for(std::chrono::milliseconds(everyMs));
    }
    return name + " " + notReady + " within 10 s: " + log();
}

/// The uid process `pid` runs as (from /proc), -1 when unknown: the tests check that a server
/// runs as the current user, on no privilege of its own.
inline long uidOf(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("Uid:", 0) == 0)
            return std::stol(line.substr(4));
    return -1;
}

} // namespace testserver
