// SPDX-License-Identifier: MIT
// mbox splitting is done here rather than by GMime's mbox parser because the workspace keeps
// each message's raw bytes and byte offset, which GMime's parsed objects do not give back.
#include "mailsource.h"

#include <algorithm>
#include <fstream>
#include <iostream>
#include <vector>

namespace bt
{
namespace
{

bool isFromLine(const std::string& line)
{
    return line.rfind("From ", 0) == 0;
}

/// mboxrd: ">From " and ">>From " lose one ">" when read back.
void unquote(std::string& line)
{
    std::size_t n = 0;
    while (n < line.size() && line[n] == '>')
        ++n;
    if (n > 0 && line.compare(n, 5, "From ") == 0)
        line.erase(0, 1);
}

/// The messages of one stream: an mbox when its first line is a "From " envelope line (one
/// message or many), else the whole stream as one message. Reads line by line, so neither a 2 GB
/// mbox nor a pipe that never ends sits in memory.
bool readStream(std::istream& in, const std::string& name, const std::function<bool(SourceMessage&&)>& visit,
                const std::function<void(const std::string&, const std::string&)>& onError)
{
    std::string line;
    if (!std::getline(in, line)) {
        if (in.bad()) {
            onError(name, "read error");
            return true;
        }
        SourceMessage empty; // the reader says what an empty message is
        empty.path = name;
        return visit(std::move(empty));
    }
    if (line.rfind("From ", 0) != 0) {
        SourceMessage m;
        m.path = name;
        m.bytes = line;
        if (!in.eof()) {
            m.bytes += '\n';
            m.bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        }
        if (in.bad()) {
            onError(name, "read error");
            return true;
        }
        return visit(std::move(m));
    }
    SourceMessage current;
    current.path = name;
    bool started = false;
    bool previousBlank = true;
    std::uint64_t offset = 0;
    std::size_t index = 0;
    bool first = true;
    while (first || std::getline(in, line)) {
        first = false;
        const std::uint64_t lineOffset = offset;
        offset += line.size() + (in.eof() ? 0 : 1);
        std::string bare = line;
        if (!bare.empty() && bare.back() == '\r')
            bare.pop_back();
        if (isFromLine(bare) && previousBlank) {
            if (started) {
                if (!visit(std::move(current)))
                    return false;
                current = SourceMessage {};
                current.path = name;
            }
            started = true;
            current.index = index++;
            current.offset = lineOffset;
            current.bytes = line + "\n"; // keep the envelope line; parseEmail skips it
            previousBlank = false;
            continue;
        }
        previousBlank = bare.empty();
        unquote(line);
        current.bytes += line;
        current.bytes += '\n';
    }
    if (in.bad()) {
        onError(name, "read error after byte " + std::to_string(offset));
        return true;
    }
    if (started)
        return visit(std::move(current));
    return true;
}

bool readFile(const std::filesystem::path& path, const std::function<bool(SourceMessage&&)>& visit,
              const std::function<void(const std::string&, const std::string&)>& onError)
{
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        onError(path.string(), "cannot be read");
        return true;
    }
    return readStream(in, path.string(), visit, onError);
}

} // namespace

void forEachMessage(const std::filesystem::path& path, const std::function<bool(SourceMessage&&)>& visit,
                    const std::function<void(const std::string& path, const std::string& error)>& onError)
{
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) {
        std::vector<std::filesystem::path> files;
        for (auto it = std::filesystem::recursive_directory_iterator(
                 path, std::filesystem::directory_options::skip_permission_denied, ec);
             !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
            if (it->is_regular_file(ec))
                files.push_back(it->path());
        }
        if (ec)
            onError(path.string(), "cannot list the folder: " + ec.message());
        std::sort(files.begin(), files.end());
        for (const auto& f : files)
            if (!readFile(f, visit, onError))
                return;
        return;
    }
    if (path == "-") {
        readStream(std::cin, "-", visit, onError);
        return;
    }
    if (!std::filesystem::exists(path, ec)) {
        onError(path.string(), "no such file or folder");
        return;
    }
    readFile(path, visit, onError);
}

} // namespace bt
