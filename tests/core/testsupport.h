// SPDX-License-Identifier: MIT
#pragma once
// What the workspace and importer tests share: the shipped classifier, a temporary workspace
// file that cleans up after itself, one-value SQL queries, a way to damage a workspace file,
// and running a command line (the CLI, the GUI) as a user would.

#include "classifier.h"
#include "knowledge.h"
#include "sqlite.h"
#include "workspace.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

namespace testsupport
{

/// What a command line did: its exit code (-1 when it did not exit normally) and its standard
/// output and error together, as a user sees them.
struct CommandRun {
    int exitCode = -1;
    std::string out;
};

/// Runs a shell command line; stderr is collected with stdout.
inline CommandRun shell(const std::string& command)
{
    CommandRun r;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    std::array<char, 4096> buf {};
    while (p && std::fgets(buf.data(), buf.size(), p))
        r.out += buf.data();
    const int status = p ? ::pclose(p) : -1;
    r.exitCode = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

inline const bt::Classifier& classifier()
{
    static const bt::Classifier c(bt::KnowledgeBase::loadDefault());
    return c;
}

/// A workspace path in the temp folder, removed (with its WAL files) before and after.
struct TempWorkspace {
    std::filesystem::path path;
    TempWorkspace()
    {
        path = std::filesystem::temp_directory_path()
            / ("bt-ws-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) + ".btw");
        remove();
    }
    ~TempWorkspace() { remove(); }
    TempWorkspace(const TempWorkspace&) = delete;
    TempWorkspace& operator=(const TempWorkspace&) = delete;
    void remove() const
    {
        for (const char* suffix : {"", "-wal", "-shm"})
            std::filesystem::remove(path.string() + suffix);
    }
    static inline int counter = 0;
};

inline std::int64_t scalar(bt::Workspace& ws, const std::string& sql)
{
    auto st = ws.db().prepare(sql);
    return st.step() ? st.int64(0) : -1;
}

inline std::string text(bt::Workspace& ws, const std::string& sql)
{
    auto st = ws.db().prepare(sql);
    return st.step() ? st.text(0) : std::string("(no row)");
}

/// A workspace file with `n` bounces to `domain` and no provider known: what an MX look-up must
/// attribute.
inline void writeBouncesTo(const std::string& path, const std::string& domain, int n)
{
    bt::Workspace ws(path);
    const auto import = ws.beginImport("fixture", 0, "", "postfix_log");
    for (int i = 0; i < n; ++i) {
        bt::Event e;
        e.recipient = std::to_string(i) + "@" + domain;
        e.recipientDomain = domain;
        e.timestamp = "2026-03-01T10:00:00Z";
        e.replyText = "550 5.1.1 unknown";
        e.dedupKey = std::to_string(i);
        if (ws.addEvent(import, e) != bt::Workspace::Added::Imported)
            throw std::runtime_error("fixture event not imported");
    }
}

/// Damages the workspace file at `path` the way a bad disk sector or a stray write would: flips
/// every bit of the page-type byte of `object`'s root page (a table or index), so that SQLite's
/// structure is broken there and only there. The file must be closed (no -wal).
inline void flipRootPageType(const std::string& path, const std::string& object)
{
    std::int64_t pageSize = 0, root = 0;
    {
        bt::sql::Database db(path, bt::sql::Access::ReadOnly);
        auto size = db.prepare("PRAGMA page_size");
        if (size.step())
            pageSize = size.int64(0);
        auto st = db.prepare("SELECT rootpage FROM sqlite_master WHERE name = ?");
        st.bind(1, object);
        if (st.step())
            root = st.int64(0);
    }
    if (pageSize <= 0 || root <= 1)
        throw std::runtime_error(path + ": no root page for " + object);
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg((root - 1) * pageSize);
    char type = 0;
    f.read(&type, 1);
    type = static_cast<char>(~type);
    f.seekp((root - 1) * pageSize);
    f.write(&type, 1);
    if (!f.flush())
        throw std::runtime_error(path + ": cannot write");
}

/// A tab-separated file's data rows (its header line skipped), each split at the tabs; no rows
/// when the file cannot be read.
inline std::vector<std::vector<std::string>> tsvRows(const std::filesystem::path& path)
{
    std::ifstream in(path);
    std::vector<std::vector<std::string>> rows;
    std::string line;
    std::getline(in, line);
    while (std::getline(in, line)) {
        std::vector<std::string> cells;
        std::stringstream ss(line);
        for (std::string cell; std::getline(ss, cell, '\t');)
            cells.push_back(cell);
        rows.push_back(std::move(cells));
    }
    return rows;
}

} // namespace testsupport
