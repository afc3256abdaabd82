// SPDX-License-Identifier: MIT
#include "utils/familycolors.h"

#include <array>

using namespace Qt::StringLiterals;

namespace btui
{

namespace
{

struct FamilyColor {
    QStringView family;
    QRgb rgb;
};

// Okabe & Ito's colour-blind-safe set, extended with Paul Tol's "muted" scheme for the
// families Okabe-Ito has no room for. Warm colours go to the spam-related families
// (reputation, content, complaint, auth, policy) so that a chart's "spam" share stands out;
// cool ones to address and infrastructure; greys to "not a bounce" and "unknown".
// Neighbours in families() differ in lightness as well as hue, so the legend still works
// in grey scale.
constexpr std::array<FamilyColor, 13> kColors {{
    {u"address", 0x0072B2}, // Okabe-Ito blue
    {u"relay", 0x56B4E9}, // Okabe-Ito sky blue
    {u"auth", 0xE69F00}, // Okabe-Ito orange
    {u"reputation", 0xD55E00}, // Okabe-Ito vermillion
    {u"policy", 0xDDCC77}, // Tol sand
    {u"content", 0xCC79A7}, // Okabe-Ito reddish purple
    {u"capacity", 0x009E73}, // Okabe-Ito bluish green
    {u"rate_limit", 0x999933}, // Tol olive
    {u"routing", 0x44AA99}, // Tol teal
    {u"system", 0x332288}, // Tol indigo
    {u"complaint", 0x882255}, // Tol wine
    {u"not_bounce", 0xBBBBBB}, // light grey
    {u"unknown", 0x777777}, // mid grey
}};

const FamilyColor& entryFor(QStringView family)
{
    for (const FamilyColor& entry : kColors) {
        if (entry.family == family)
            return entry;
    }
    return kColors.back();
}

} // namespace

const QList<QString>& families()
{
    static const QList<QString> list = [] {
        QList<QString> names;
        names.reserve(qsizetype(kColors.size()));
        for (const FamilyColor& entry : kColors)
            names.append(entry.family.toString());
        return names;
    }();
    return list;
}

QColor familyColor(QStringView family)
{
    return QColor::fromRgb(entryFor(family).rgb);
}

QColor familyTextColor(QStringView family)
{
    // Relative luminance decides, as in WCAG: white text only on the dark colours.
    const QColor c = familyColor(family);
    const double luminance = 0.2126 * c.redF() + 0.7152 * c.greenF() + 0.0722 * c.blueF();
    return luminance > 0.45 ? QColor(Qt::black) : QColor(Qt::white);
}

QColor familyTint(QStringView family)
{
    return tinted(familyColor(family), 0.35);
}

QColor tinted(const QColor& color, double share)
{
    auto mix = [share](float channel) { return qRound(255.0 * (1.0 - share) + double(channel) * 255.0 * share); };
    return QColor(mix(color.redF()), mix(color.greenF()), mix(color.blueF()));
}

} // namespace btui
