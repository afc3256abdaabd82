// SPDX-License-Identifier: MIT
// Where the user's settings live (issue 13, item 8): one folder under the XDG config home for
// rules and profiles, shared by the window and the CLI; profiles of older versions moved there.
#include "knowledge.h"
#include "userconfig.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <unistd.h>

namespace fs = std::filesystem;

namespace
{

/// Sets (or unsets, with nullopt) an environment variable for the scope, restoring it after.
class EnvVar
{
public:
    EnvVar(const char* name, std::optional<std::string> value)
        : m_name(name)
    {
        if (const char* old = std::getenv(name))
            m_old = old;
        if (value)
            ::setenv(name, value->c_str(), 1);
        else
            ::unsetenv(name);
    }
    ~EnvVar()
    {
        if (m_old)
            ::setenv(m_name, m_old->c_str(), 1);
        else
            ::unsetenv(m_name);
    }
    EnvVar(const EnvVar&) = delete;
    EnvVar& operator=(const EnvVar&) = delete;

private:
    const char* m_name;
    std::optional<std::string> m_old;
};

class UserConfigTest : public ::testing::Test
{
protected:
    void SetUp() override
    {
        root = fs::temp_directory_path() / ("bt-userconfig-" + std::to_string(::getpid()));
        fs::remove_all(root);
        fs::create_directories(root);
    }
    void TearDown() override { fs::remove_all(root); }

    static void write(const fs::path& path, const std::string& text)
    {
        fs::create_directories(path.parent_path());
        std::ofstream(path) << text;
    }

    fs::path root;
};

} // namespace

TEST_F(UserConfigTest, OneFolderUnderTheXdgConfigHome)
{
    {
        EnvVar xdg("XDG_CONFIG_HOME", (root / "config").string());
        EXPECT_EQ(bt::userConfigDir(), root / "config" / "bouncetriage");
        EXPECT_EQ(bt::userRulesFile(), root / "config" / "bouncetriage" / "rules.json");
        EXPECT_EQ(bt::profilesDir(), root / "config" / "bouncetriage" / "profiles");
        // The CLI's and the window's rules come from the same place.
        EXPECT_EQ(bt::KnowledgeBase::localRulesPath(), bt::userRulesFile());
    }
    {
        EnvVar xdg("XDG_CONFIG_HOME", std::nullopt);
        EnvVar home("HOME", (root / "home").string());
        EXPECT_EQ(bt::profilesDir(), root / "home" / ".config" / "bouncetriage" / "profiles");
        EXPECT_EQ(bt::legacyProfilesDir(),
                  root / "home" / ".local/share" / "BounceTriage" / "Bounce Triage" / "profiles");
    }
    {
        // The XDG specification: a relative path is invalid and ignored.
        EnvVar xdg("XDG_CONFIG_HOME", "relative/config");
        EnvVar home("HOME", (root / "home").string());
        EXPECT_EQ(bt::userConfigDir(), root / "home" / ".config" / "bouncetriage");
    }
    {
        EnvVar xdg("XDG_CONFIG_HOME", std::nullopt);
        EnvVar home("HOME", std::nullopt);
        EXPECT_TRUE(bt::userConfigDir().empty());
        EXPECT_TRUE(bt::savedProfileNames().empty());
        EXPECT_TRUE(bt::savedProfilePath("crm").empty());
    }
}

TEST_F(UserConfigTest, ProfileFileNamesAreSafe)
{
    EXPECT_EQ(bt::profileFileName("crm export-2024_v1.2"), "crm export-2024_v1.2");
    EXPECT_EQ(bt::profileFileName("  crm  "), "crm");
    EXPECT_EQ(bt::profileFileName("../etc/passwd"), "_.._etc_passwd");
    EXPECT_EQ(bt::profileFileName(".hidden"), "_.hidden");
    EXPECT_EQ(bt::profileFileName("a:b*c"), "a_b_c");
    // One '_' per character, as the window wrote them: "ö" is two bytes, "€" three.
    EXPECT_EQ(bt::profileFileName("Gr\xC3\xB6\xC3\x9F"
                                  "e \xE2\x82\xAC"),
              "Gr__e _");
    EXPECT_EQ(bt::profileFileName(""), "");
}

TEST_F(UserConfigTest, SavedProfilesByNameAndByFileName)
{
    EnvVar xdg("XDG_CONFIG_HOME", (root / "config").string());
    EnvVar data("XDG_DATA_HOME", (root / "data").string());
    const fs::path dir = root / "config" / "bouncetriage" / "profiles";
    write(dir / "crm.json", "{}");
    write(dir / "crm (old).json", "{}");
    write(dir / "a_b.json", "{}");
    write(dir / "notes.txt", "not a profile");
    EXPECT_EQ(bt::savedProfileNames(), (std::vector<std::string> {"a_b", "crm", "crm (old)"}));
    EXPECT_EQ(bt::savedProfilePath("crm"), dir / "crm.json");
    EXPECT_EQ(bt::savedProfilePath("crm (old)"), dir / "crm (old).json"); // as listed
    EXPECT_EQ(bt::savedProfilePath("a/b"), dir / "a_b.json"); // as the window saves "a/b"
    EXPECT_TRUE(bt::savedProfilePath("missing").empty());
    EXPECT_TRUE(bt::savedProfilePath("../profiles/crm").empty());
}

TEST_F(UserConfigTest, ProfilesOfOlderVersionsAreCopiedOnFirstUse)
{
    EnvVar xdg("XDG_CONFIG_HOME", (root / "config").string());
    EnvVar data("XDG_DATA_HOME", (root / "data").string());
    const fs::path legacy = root / "data" / "BounceTriage" / "Bounce Triage" / "profiles";
    ASSERT_EQ(bt::legacyProfilesDir(), legacy);
    write(legacy / "crm.json", R"({"name": "crm", "columns": {"recipient": "Email"}})");
    write(legacy / "esp.json", R"({"name": "esp", "columns": {"recipient": "To"}})");

    EXPECT_EQ(bt::savedProfileNames(), (std::vector<std::string> {"crm", "esp"}));
    const fs::path moved = root / "config" / "bouncetriage" / "profiles";
    EXPECT_TRUE(fs::exists(moved / "crm.json"));
    EXPECT_TRUE(fs::exists(moved / "esp.json"));
    EXPECT_TRUE(fs::exists(legacy / "crm.json")) << "the old folder is left as it was";

    // Only the first use copies: a profile deleted in the new place stays deleted.
    fs::remove(moved / "esp.json");
    EXPECT_EQ(bt::migrateLegacyProfiles(), 0);
    EXPECT_EQ(bt::savedProfileNames(), (std::vector<std::string> {"crm"}));
    EXPECT_TRUE(bt::savedProfilePath("esp").empty());
}

TEST_F(UserConfigTest, NothingToMoveCreatesNothing)
{
    EnvVar xdg("XDG_CONFIG_HOME", (root / "config").string());
    EnvVar data("XDG_DATA_HOME", (root / "data").string());
    EXPECT_EQ(bt::migrateLegacyProfiles(), 0);
    EXPECT_TRUE(bt::savedProfileNames().empty());
    EXPECT_FALSE(fs::exists(root / "config")) << "listing must not create the user's config folder";
}
