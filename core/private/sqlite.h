// SPDX-License-Identifier: MIT
// The core's SQL helpers: private to core/ (CMake puts core/private on core's include path only,
// and on the tests' through the btcore_sql target, which ui/ may not link). The window and the
// CLI ask bt::Triage and the query functions; they never write SQL.
#pragma once

#include "sqlerror.h"

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

struct sqlite3;
struct sqlite3_stmt;

/// A thin RAII layer over SQLite's C API: the workspace is a plain SQLite file, no ORM between.
namespace bt::sql
{

class Statement;

/// How long a statement waits for another connection's write lock before failing.
inline constexpr int kBusyTimeoutMs = 10000;

/// How a file is opened.
enum class Access {
    Create, ///< read and write, created when missing
    ReadWrite, ///< read and write, never created
    ReadOnly, ///< `mode=ro`: nothing is written, but WAL still needs (and may create) -shm and -wal
    Immutable, ///< `mode=ro&immutable=1`: no locks, no -shm or -wal; only for files no one can change
};

class Database
{
public:
    Database() = default;
    /// Opens the file as `access` says; throws Error.
    explicit Database(const std::string& path, Access access = Access::Create);
    ~Database();
    Database(Database&& o) noexcept;
    Database& operator=(Database&& o) noexcept;
    Database(const Database&) = delete;
    Database& operator=(const Database&) = delete;

    void exec(std::string_view sql);
    Statement prepare(std::string_view sql);
    std::int64_t lastInsertId() const;
    int changes() const;
    sqlite3* handle() const { return m_db; }
    bool isOpen() const { return m_db != nullptr; }
    /// True when SQLite opened the main database read-only (asked for, or the file is write-protected).
    bool readOnly() const;

private:
    sqlite3* m_db = nullptr;
};

class Statement
{
public:
    Statement(sqlite3* db, std::string_view sql);
    ~Statement();
    Statement(Statement&& o) noexcept;
    Statement& operator=(Statement&&) = delete;
    Statement(const Statement&) = delete;

    Statement& bind(int index, std::int64_t v);
    Statement& bind(int index, int v) { return bind(index, std::int64_t(v)); }
    Statement& bind(int index, double v);
    Statement& bind(int index, std::string_view v); ///< binds the text as is (empty stays empty)
    Statement& bindText(int index, std::string_view v); ///< empty → NULL
    Statement& bindNull(int index);
    Statement& bind(int index, const std::optional<int>& v);
    Statement& bindBlob(int index, std::string_view bytes); ///< binds the bytes as a BLOB

    /// Runs one step; true when a row is available.
    bool step();
    /// Runs to completion (for INSERT/UPDATE) and resets.
    void run();
    void reset();

    std::int64_t int64(int col) const;
    double real(int col) const;
    std::string text(int col) const;
    /// The column's text without a copy: valid until the next step(), reset() or column call.
    std::string_view textView(int col) const;
    bool isNull(int col) const;

private:
    sqlite3* m_db = nullptr;
    sqlite3_stmt* m_stmt = nullptr;
};

/// Makes the statement running on `db` stop with an error as soon as it can. Safe to call from
/// any thread while the connection is open (sqlite3_interrupt).
void interrupt(sqlite3* db);

/// The connection's page cache kept to at most `kib` KiB for a scope (a pass that reads each
/// page once, a fill that writes pages once), and set back to what it was when the scope ends.
class CacheLimit
{
public:
    CacheLimit(Database& db, std::int64_t kib);
    ~CacheLimit();
    CacheLimit(const CacheLimit&) = delete;
    CacheLimit& operator=(const CacheLimit&) = delete;

private:
    Database& m_db;
    std::int64_t m_before = 0; ///< PRAGMA cache_size as it was: negative KiB, positive pages
    bool m_changed = false;
};

/// BEGIN … COMMIT, rolled back if not committed (an exception unwinding through it).
class Transaction
{
public:
    /// Write: BEGIN IMMEDIATE, the write lock taken at once (no deadlock between two writers).
    /// Read: a plain BEGIN, one snapshot for several statements, which a read-only file allows.
    enum class Lock { Write, Read };
    explicit Transaction(Database& db, Lock lock = Lock::Write);
    ~Transaction();
    void commit();

private:
    Database& m_db;
    bool m_done = false;
};

} // namespace bt::sql
