// SPDX-License-Identifier: MIT
#include "userconfig.h"

#include <algorithm>
#include <cstdlib>
#include <system_error>

namespace bt
{

namespace
{

/// An XDG base directory: the variable when set to an absolute path (the specification says
/// relative ones are invalid and ignored), else $HOME/<fallback>; empty without either.
std::filesystem::path xdgDir(const char* variable, const char* fallback)
{
    if (const char* v = std::getenv(variable); v && *v == '/')
        return std::filesystem::path(v);
    if (const char* home = std::getenv("HOME"); home && *home)
        return std::filesystem::path(home) / fallback;
    return {};
}

std::vector<std::filesystem::path> jsonFiles(const std::filesystem::path& dir)
{
    std::vector<std::filesystem::path> out;
    std::error_code ec;
    if (dir.empty() || !std::filesystem::is_directory(dir, ec))
        return out;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        std::error_code fileEc;
        if (entry.path().extension() == ".json" && entry.is_regular_file(fileEc))
            out.push_back(entry.path());
    }
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

std::filesystem::path userConfigDir()
{
    const auto base = xdgDir("XDG_CONFIG_HOME", ".config");
    return base.empty() ? base : base / "bouncetriage";
}

std::filesystem::path userRulesFile()
{
    const auto dir = userConfigDir();
    return dir.empty() ? dir : dir / "rules.json";
}

std::filesystem::path profilesDir()
{
    const auto dir = userConfigDir();
    return dir.empty() ? dir : dir / "profiles";
}

std::filesystem::path legacyProfilesDir()
{
    const auto base = xdgDir("XDG_DATA_HOME", ".local/share");
    return base.empty() ? base : base / "BounceTriage" / "Bounce Triage" / "profiles";
}

std::string profileFileName(std::string_view name)
{
    // Trimmed of ASCII white space as the window did (QString::trimmed).
    const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
    while (!name.empty() && space(name.front()))
        name.remove_prefix(1);
    while (!name.empty() && space(name.back()))
        name.remove_suffix(1);
    std::string out;
    for (std::size_t i = 0; i < name.size(); ++i) {
        const auto c = static_cast<unsigned char>(name[i]);
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
            || c == ' ' || c == '-') {
            out += static_cast<char>(c);
        } else if (c < 0x80 || c >= 0xC0) {
            out += '_'; // one per character: a UTF-8 sequence's continuation bytes add none
        }
    }
    if (!out.empty() && out.front() == '.')
        out.insert(out.begin(), '_');
    return out;
}

int migrateLegacyProfiles()
{
    const auto target = profilesDir();
    const auto legacy = legacyProfilesDir();
    std::error_code ec;
    if (target.empty() || legacy.empty() || std::filesystem::exists(target, ec))
        return 0;
    const auto files = jsonFiles(legacy);
    if (files.empty())
        return 0;
    std::filesystem::create_directories(target, ec);
    if (ec)
        return 0;
    int copied = 0;
    for (const auto& from : files) {
        std::error_code copyEc;
        if (std::filesystem::copy_file(from, target / from.filename(), std::filesystem::copy_options::skip_existing,
                                       copyEc))
            ++copied;
    }
    return copied;
}

std::vector<std::string> savedProfileNames()
{
    migrateLegacyProfiles();
    std::vector<std::string> names;
    for (const auto& file : jsonFiles(profilesDir()))
        names.push_back(file.stem().string());
    std::sort(names.begin(), names.end()); // by name: "crm" before "crm (old)", unlike their file names
    return names;
}

std::filesystem::path savedProfilePath(std::string_view name)
{
    migrateLegacyProfiles();
    const auto dir = profilesDir();
    if (dir.empty())
        return {};
    std::error_code ec;
    // The file name as listed (a hand-made "crm (old).json" too), then as the window saves it.
    if (!name.empty() && name.find('/') == std::string_view::npos && name != "." && name != "..") {
        auto exact = dir / (std::string(name) + ".json");
        if (std::filesystem::is_regular_file(exact, ec))
            return exact;
    }
    const std::string file = profileFileName(name);
    if (file.empty())
        return {};
    auto path = dir / (file + ".json");
    return std::filesystem::is_regular_file(path, ec) ? path : std::filesystem::path {};
}

} // namespace bt
