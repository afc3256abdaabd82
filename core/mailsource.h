// SPDX-License-Identifier: MIT
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace bt
{

/// One message read from a file, a folder or an mbox, with where it came from.
struct SourceMessage {
    std::string path; ///< the file it came from
    std::size_t index = 0; ///< position in an mbox (0-based), else 0
    std::uint64_t offset = 0; ///< byte offset of the message in its file
    std::string bytes; ///< the message, ">From " quoting undone
};

/// Visits every message under `path`: a single message file, an mbox file ("From " separated,
/// read line by line so a 2 GB mbox never sits in memory), or a folder (recursively; maildir
/// cur/new/tmp or any folder), files in name order; "-" is standard input (an mbox stream, or
/// one message). `visit` returns false to stop early.
/// Unreadable files go to `onError` with the reason, and the walk goes on.
void forEachMessage(const std::filesystem::path& path, const std::function<bool(SourceMessage&&)>& visit,
                    const std::function<void(const std::string& path, const std::string& error)>& onError);

} // namespace bt
