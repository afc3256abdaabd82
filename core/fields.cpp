// SPDX-License-Identifier: MIT
// Reading and writing EventFilter through the field table, so that the consumers (SQL, cube,
// options, panel, words) loop over kFields instead of naming each member.
#include "fields.h"

#include <charconv>

namespace bt
{
namespace
{

template<class... F> struct Overloaded : F... {
    using F::operator()...;
};
template<class... F> Overloaded(F...) -> Overloaded<F...>;

template<class T> std::optional<T> number(std::string_view s)
{
    T v {};
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size())
        return std::nullopt;
    return v;
}

} // namespace

const Field* fieldById(std::string_view id)
{
    for (const Field& f : kFields)
        if (f.id == id)
            return &f;
    return nullptr;
}

const Field* fieldByOption(std::string_view key)
{
    if (key.empty())
        return nullptr;
    for (const Field& f : kFields)
        for (const auto o : f.options)
            if (o == key)
                return &f;
    return nullptr;
}

bool isSet(const EventFilter& f, const Field& field)
{
    return std::visit(Overloaded {[&](std::vector<std::string> EventFilter::*m) { return !(f.*m).empty(); },
                                  [&](std::string EventFilter::*m) { return !(f.*m).empty(); },
                                  [&](std::optional<int> EventFilter::*m) { return (f.*m).has_value(); },
                                  [&](std::optional<std::int64_t> EventFilter::*m) { return (f.*m).has_value(); },
                                  [&](FieldBounds b) { return !(f.*b.from).empty() || !(f.*b.to).empty(); }},
                      field.slot);
}

std::vector<std::string> valuesOf(const EventFilter& f, const Field& field)
{
    if (!isSet(f, field))
        return {};
    return std::visit(Overloaded {[&](std::vector<std::string> EventFilter::*m) { return f.*m; },
                                  [&](std::string EventFilter::*m) { return std::vector<std::string> {f.*m}; },
                                  [&](std::optional<int> EventFilter::*m) {
                                      return std::vector<std::string> {std::to_string(*(f.*m))};
                                  },
                                  [&](std::optional<std::int64_t> EventFilter::*m) {
                                      return std::vector<std::string> {std::to_string(*(f.*m))};
                                  },
                                  [&](FieldBounds b) {
                                      return std::vector<std::string> {f.*b.from, f.*b.to};
                                  }},
                      field.slot);
}

void setValue(EventFilter& f, const Field& field, std::string value, int bound)
{
    std::visit(Overloaded {[&](std::vector<std::string> EventFilter::*m) { (f.*m).push_back(std::move(value)); },
                           [&](std::string EventFilter::*m) { f.*m = std::move(value); },
                           [&](std::optional<int> EventFilter::*m) { f.*m = number<int>(value); },
                           [&](std::optional<std::int64_t> EventFilter::*m) { f.*m = number<std::int64_t>(value); },
                           [&](FieldBounds b) { f.*(bound == 0 ? b.from : b.to) = std::move(value); }},
               field.slot);
}

void clearField(EventFilter& f, const Field& field)
{
    std::visit(Overloaded {[&](std::vector<std::string> EventFilter::*m) { (f.*m).clear(); },
                           [&](std::string EventFilter::*m) { (f.*m).clear(); },
                           [&](std::optional<int> EventFilter::*m) { (f.*m).reset(); },
                           [&](std::optional<std::int64_t> EventFilter::*m) { (f.*m).reset(); },
                           [&](FieldBounds b) {
                               (f.*b.from).clear();
                               (f.*b.to).clear();
                           }},
               field.slot);
}

const std::vector<GroupBy>& groupings()
{
    // Time groupings last: "--by provider|…|day|hour" reads from the fields to the calendar.
    static const std::vector<GroupBy> all = [] {
        std::vector<GroupBy> out;
        for (const Field& f : kFields)
            if (f.group && f.kind != FieldKind::Time)
                out.push_back(*f.group);
        for (const Field& f : kFields)
            if (f.group && f.kind == FieldKind::Time) {
                out.push_back(GroupBy::Day);
                out.push_back(GroupBy::Hour);
            }
        return out;
    }();
    return all;
}

const Field& fieldOf(GroupBy by)
{
    const GroupBy own = by == GroupBy::Hour ? GroupBy::Day : by;
    for (const Field& f : kFields)
        if (f.group == own)
            return f;
    return kFields[0]; // unreachable while every GroupBy has its field (fields_test)
}

std::string_view groupName(GroupBy by)
{
    if (by == GroupBy::Day)
        return "day";
    if (by == GroupBy::Hour)
        return "hour";
    return fieldOf(by).id;
}

std::string groupLabel(GroupBy by)
{
    if (by == GroupBy::Day)
        return "Day";
    if (by == GroupBy::Hour)
        return "Hour";
    std::string label(fieldOf(by).label);
    if (!label.empty() && label[0] >= 'a' && label[0] <= 'z')
        label[0] = static_cast<char>(label[0] - 'a' + 'A');
    return label;
}

std::string groupKeySql(GroupBy by)
{
    const std::string column = "e." + std::string(fieldOf(by).column);
    if (by == GroupBy::Day)
        return "substr(" + column + ", 1, 10)";
    if (by == GroupBy::Hour)
        return "substr(" + column + ", 1, 13)";
    return column;
}

void narrowToGroup(EventFilter& f, GroupBy by, const std::string& key, std::int64_t templateId)
{
    const Field& field = fieldOf(by);
    switch (field.kind) {
    case FieldKind::Time: {
        const auto [from, to] = bucketTimes(key);
        if (!from.empty()) {
            setValue(f, field, from, 0);
            setValue(f, field, to, 1);
        }
        return;
    }
    case FieldKind::Number: // a template: its text is the key, its id the filter
        if (templateId)
            setValue(f, field, std::to_string(templateId));
        return;
    default:
        clearField(f, field);
        setValue(f, field, key);
        return;
    }
}

} // namespace bt
