// SPDX-License-Identifier: MIT
#include "sqlite.h"

#include <sqlite3.h>
#include <utility>

namespace bt::sql
{
namespace
{

[[noreturn]] void fail(sqlite3* db, std::string_view what)
{
    throw Error(std::string(what) + ": " + (db ? sqlite3_errmsg(db) : "out of memory"),
                db ? sqlite3_extended_errcode(db) : SQLITE_NOMEM);
}

/// A path as an SQLite URI (file:…): every byte but unreserved ones and '/' percent-encoded,
/// so that '?', '#' and '%' in a file name stay part of the name.
std::string fileUri(const std::string& path)
{
    static const char hex[] = "0123456789ABCDEF";
    std::string out = "file:";
    for (const unsigned char c : path) {
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.'
            || c == '_' || c == '~' || c == '/') {
            out += char(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 0xf];
        }
    }
    return out;
}

} // namespace

Database::Database(const std::string& path, Access access)
{
    int flags = SQLITE_OPEN_NOMUTEX;
    std::string name = path;
    switch (access) {
    case Access::Create:
        flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
        break;
    case Access::ReadWrite:
        flags |= SQLITE_OPEN_READWRITE;
        break;
    case Access::ReadOnly:
    case Access::Immutable:
        // Only a URI can say immutable; mode=ro with it so that SQLite never tries a write.
        flags |= SQLITE_OPEN_READONLY | SQLITE_OPEN_URI;
        name = fileUri(path) + (access == Access::Immutable ? "?mode=ro&immutable=1" : "?mode=ro");
        break;
    }
    if (sqlite3_open_v2(name.c_str(), &m_db, flags, nullptr) != SQLITE_OK) {
        const std::string msg = m_db ? sqlite3_errmsg(m_db) : "out of memory";
        sqlite3_close(m_db);
        m_db = nullptr;
        throw Error(path + ": cannot open: " + msg);
    }
    sqlite3_extended_result_codes(m_db, 1);
    // Another process (the GUI and the CLI at once) may hold the write lock for a batch.
    sqlite3_busy_timeout(m_db, kBusyTimeoutMs);
}

Database::~Database()
{
    if (m_db)
        sqlite3_close_v2(m_db);
}

Database::Database(Database&& o) noexcept
    : m_db(std::exchange(o.m_db, nullptr))
{
}

Database& Database::operator=(Database&& o) noexcept
{
    if (this != &o) {
        if (m_db)
            sqlite3_close_v2(m_db);
        m_db = std::exchange(o.m_db, nullptr);
    }
    return *this;
}

void Database::exec(std::string_view sql)
{
    char* err = nullptr;
    const std::string s(sql);
    if (const int rc = sqlite3_exec(m_db, s.c_str(), nullptr, nullptr, &err); rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errmsg(m_db);
        sqlite3_free(err);
        throw Error(msg + " in: " + s.substr(0, 200),
                    sqlite3_extended_errcode(m_db) ? sqlite3_extended_errcode(m_db) : rc);
    }
}

Statement Database::prepare(std::string_view sql)
{
    return Statement(m_db, sql);
}

std::int64_t Database::lastInsertId() const
{
    return sqlite3_last_insert_rowid(m_db);
}

bool Database::readOnly() const
{
    return m_db && sqlite3_db_readonly(m_db, "main") == 1;
}

int Database::changes() const
{
    return sqlite3_changes(m_db);
}

Statement::Statement(sqlite3* db, std::string_view sql)
    : m_db(db)
{
    if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &m_stmt, nullptr) != SQLITE_OK)
        fail(db, "cannot prepare \"" + std::string(sql.substr(0, 120)) + "\"");
}

Statement::~Statement()
{
    sqlite3_finalize(m_stmt);
}

Statement::Statement(Statement&& o) noexcept
    : m_db(o.m_db)
    , m_stmt(std::exchange(o.m_stmt, nullptr))
{
}

Statement& Statement::bind(int index, std::int64_t v)
{
    sqlite3_bind_int64(m_stmt, index, v);
    return *this;
}

Statement& Statement::bind(int index, double v)
{
    sqlite3_bind_double(m_stmt, index, v);
    return *this;
}

Statement& Statement::bind(int index, std::string_view v)
{
    sqlite3_bind_text(m_stmt, index, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
}

Statement& Statement::bindText(int index, std::string_view v)
{
    return v.empty() ? bindNull(index) : bind(index, v);
}

Statement& Statement::bindBlob(int index, std::string_view bytes)
{
    sqlite3_bind_blob(m_stmt, index, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
    return *this;
}

Statement& Statement::bindNull(int index)
{
    sqlite3_bind_null(m_stmt, index);
    return *this;
}

Statement& Statement::bind(int index, const std::optional<int>& v)
{
    return v ? bind(index, std::int64_t(*v)) : bindNull(index);
}

bool Statement::step()
{
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    fail(m_db, "statement failed");
}

void Statement::run()
{
    while (step()) { }
    reset();
}

void Statement::reset()
{
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

std::int64_t Statement::int64(int col) const
{
    return sqlite3_column_int64(m_stmt, col);
}

double Statement::real(int col) const
{
    return sqlite3_column_double(m_stmt, col);
}

std::string Statement::text(int col) const
{
    const auto* p = sqlite3_column_text(m_stmt, col);
    return p
        ? std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, col)))
        : std::string();
}

std::string_view Statement::textView(int col) const
{
    const auto* p = sqlite3_column_text(m_stmt, col);
    return p ? std::string_view(reinterpret_cast<const char*>(p),
                                static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, col)))
             : std::string_view();
}

bool Statement::isNull(int col) const
{
    return sqlite3_column_type(m_stmt, col) == SQLITE_NULL;
}

CacheLimit::CacheLimit(Database& db, std::int64_t kib)
    : m_db(db)
{
    {
        auto st = m_db.prepare("PRAGMA cache_size");
        m_before = st.step() ? st.int64(0) : 0;
    }
    // Only negative (KiB) settings are ours to compare; a size in pages is left as it is.
    if (m_before < -kib) {
        m_db.exec("PRAGMA cache_size=-" + std::to_string(kib));
        m_changed = true;
    }
}

CacheLimit::~CacheLimit()
{
    if (!m_changed)
        return;
    try {
        m_db.exec("PRAGMA cache_size=" + std::to_string(m_before));
    } catch (...) {
        // An interrupted connection (closing): nothing left to give the cache back to.
    }
}

Transaction::Transaction(Database& db, Lock lock)
    : m_db(db)
{
    m_db.exec(lock == Lock::Write ? "BEGIN IMMEDIATE" : "BEGIN");
}

Transaction::~Transaction()
{
    if (!m_done) {
        try {
            m_db.exec("ROLLBACK");
        } catch (...) {
            // Nothing more to do: SQLite rolls back on close as well.
        }
    }
}

void Transaction::commit()
{
    m_db.exec("COMMIT");
    m_done = true;
}

void interrupt(sqlite3* db)
{
    if (db)
        sqlite3_interrupt(db);
}

} // namespace bt::sql
