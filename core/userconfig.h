// SPDX-License-Identifier: MIT
#pragma once

// Where the user's own settings live, for the window and the command line alike: one folder
// under the XDG config home. Plain C++ reading XDG_CONFIG_HOME / XDG_DATA_HOME / HOME, so the
// CLI, the GUI and the tests agree without Qt.

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace bt
{

/// $XDG_CONFIG_HOME/bouncetriage, or $HOME/.config/bouncetriage; empty when neither is set.
std::filesystem::path userConfigDir();
/// userConfigDir()/rules.json: the user's local rules (same ids replace shipped rules).
std::filesystem::path userRulesFile();
/// userConfigDir()/profiles: the saved CSV column profiles, one <name>.json each.
std::filesystem::path profilesDir();
/// Where the window kept profiles before 0.1.0: $XDG_DATA_HOME (or ~/.local/share)
/// /BounceTriage/Bounce Triage/profiles, Qt's AppDataLocation for that organisation and name.
std::filesystem::path legacyProfilesDir();

/// The file name (without .json) a profile called `name` is saved as: letters, digits, dot,
/// dash, underscore and space kept, any other character one '_'; never starts with a dot.
std::string profileFileName(std::string_view name);

/// First use of profilesDir(): when it does not exist yet and legacyProfilesDir() holds
/// profiles, copies them there (the old folder is left as it is). Returns how many were
/// copied; 0 when the new folder already exists, so a profile deleted there stays deleted.
int migrateLegacyProfiles();

/// The names of the saved profiles (file names without .json), sorted; migrates first.
std::vector<std::string> savedProfileNames();
/// The saved profile called `name`: profilesDir()/<name>.json as listed, else
/// profilesDir()/profileFileName(name).json; empty when there is none. Migrates first.
std::filesystem::path savedProfilePath(std::string_view name);

} // namespace bt
