// SPDX-License-Identifier: MIT
// The one reader of filter options (CLI and window), and the text-safety helpers.
#include "filteroption.h"
#include "textsafety.h"

#include <gtest/gtest.h>

TEST(FilterOption, EveryKeyOfTheWindow)
{
    bt::EventFilter f;
    std::string error;
    for (const char* o :
         {"provider=Gmail", "domain=Example.COM", "ip=192.0.2.1", "campaign=spring", "from_domain=Shop.Example.com",
          "family=Address", "reason=userunknown", "type=bounce", "code=550", "status=5.7", "spam=Yes",
          "text=mailbox full", " from = 2025-11-03 ", "to=2025-11-04T10"})
        EXPECT_TRUE(bt::applyFilterOption(f, std::string_view(o), &error)) << o << ": " << error;
    EXPECT_EQ(f.providers, std::vector<std::string> {"Gmail"});
    EXPECT_EQ(f.domains, std::vector<std::string> {"example.com"});
    EXPECT_EQ(f.fromDomains, std::vector<std::string> {"shop.example.com"});
    EXPECT_EQ(f.families, std::vector<std::string> {"address"});
    EXPECT_EQ(f.basicCode, 550);
    EXPECT_EQ(f.enhancedCode, "5.7");
    EXPECT_EQ(f.spamRelated, "yes");
    EXPECT_EQ(f.text, "mailbox full");
    EXPECT_EQ(f.from, "2025-11-03T00:00:00Z");
    EXPECT_EQ(f.to, "2025-11-04T10:00:00Z");
    EXPECT_EQ(bt::filterOptionKeys().size(), 14u);
}

TEST(FilterOption, BadValuesAreErrorsNamingKeyAndValue)
{
    for (const char* o :
         {"from=11/03/2025", "to=2025-11-31", "from=2025-11-03T24", "from=2025-11-03 10:00", "code=55", "code=abc",
          "status=6.1", "status=5.7.1.2", "spam=maybe", "type=bounced", "colour=red", "provider=", "=x", "noequals"}) {
        bt::EventFilter f;
        std::string error;
        EXPECT_FALSE(bt::applyFilterOption(f, std::string_view(o), &error)) << o;
        EXPECT_NE(error.find(std::string(o).substr(0, std::string(o).find('='))), std::string::npos) << error;
        EXPECT_TRUE(f.empty()) << o << " changed the filter";
    }
}

TEST(FilterOption, Iso8601Times)
{
    EXPECT_EQ(bt::isoTimeUtc("2025-11-03"), "2025-11-03T00:00:00Z");
    EXPECT_EQ(bt::isoTimeUtc("2025-11-03T10"), "2025-11-03T10:00:00Z");
    EXPECT_EQ(bt::isoTimeUtc("2025-11-03T10:05"), "2025-11-03T10:05:00Z");
    EXPECT_EQ(bt::isoTimeUtc("2025-11-03T10:05:06Z"), "2025-11-03T10:05:06Z");
    EXPECT_EQ(bt::isoTimeUtc("2025-11-03T10:05:06.789Z"), "2025-11-03T10:05:06Z");
    EXPECT_EQ(bt::isoTimeUtc("2025-11-03T01:00:00+02:00"), "2025-11-02T23:00:00Z");
    EXPECT_EQ(bt::isoTimeUtc("2025-11-03T23:00-0130"), "2025-11-04T00:30:00Z");
    EXPECT_EQ(bt::isoTimeUtc("2024-02-29"), "2024-02-29T00:00:00Z");
    for (const char* bad : {"2025-02-29", "2025-13-01", "2025-11-3", "20251103", "2025-11-03T", "2025-11-03T10:5",
                            "2025-11-03Z", "2025-11-03T10:00:00Zx", "11/03/2025", ""})
        EXPECT_FALSE(bt::isoTimeUtc(bad)) << bad;
}

TEST(TextSafety, ControlCharactersAreEscaped)
{
    EXPECT_EQ(bt::escapeControls("a\tb\nc"), "a\tb\nc");
    EXPECT_EQ(bt::escapeControls("\x1b]0;x\x07"), "\\x1b]0;x\\x07");
    EXPECT_EQ(bt::escapeControls("\r\x7f"), "\\x0d\\x7f");
    EXPECT_EQ(bt::escapeControls("\xc2\x9b"
                                 "31m"),
              "\\u009b31m");
    EXPECT_EQ(bt::escapeControls("Ünknown — é"), "Ünknown — é");
}

TEST(TextSafety, BinaryIsToldFromText)
{
    std::string random;
    for (int i = 0; i < 8192; ++i)
        random.push_back(static_cast<char>((i * 7919 + 13) % 256));
    EXPECT_NE(bt::binaryReason(random), "");
    EXPECT_NE(bt::binaryReason(std::string("h\0e\0l\0l\0o\0", 10)), "") << "UTF-16";
    EXPECT_EQ(bt::binaryReason("550 5.1.1 user unknown\r\n"), "");
    EXPECT_EQ(bt::binaryReason("Subject: \x1b$B0-@h\x1b(B\n"), "") << "ISO-2022-JP";
    EXPECT_EQ(bt::binaryReason("caf\xe9 cr\xe8me br\xfbl\xe9"
                               "e\n"),
              "")
        << "Latin-1";
    EXPECT_EQ(bt::binaryReason(std::string("a stray NUL") + '\0' + std::string(200, 'x')), "");
}
