// SPDX-License-Identifier: MIT
// The one SQLite type every layer may see: its error, which the window and the CLI catch to say
// what went wrong (a disk full, a locked file). The SQL helpers themselves are private to core
// (core/private/sqlite.h).
#pragma once

#include <stdexcept>
#include <string>

namespace bt::sql
{

/// Any SQLite failure, with SQLite's own message and the statement that failed.
class Error : public std::runtime_error
{
public:
    explicit Error(const std::string& what, int code = 0)
        : std::runtime_error(what)
        , m_code(code)
    {
    }
    /// SQLite's extended result code (0 when not from SQLite).
    int code() const { return m_code; }
    /// SQLITE_FULL: the disk (or the file system's quota) has no room for what was written.
    bool diskFull() const { return (m_code & 0xff) == 13; }

private:
    int m_code = 0;
};

} // namespace bt::sql
