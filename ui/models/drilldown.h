// SPDX-License-Identifier: MIT
#pragma once

#include "query.h"

#include <QList>
#include <QObject>
#include <QString>

/// The one object that holds the triage window's drill-down (hotspot's FilterAndZoomStack): the
/// filter panel, chart clicks and the groups view push filters; every view re-queries on
/// filterChanged; Back and Reset come free.
class DrillDown : public QObject
{
    Q_OBJECT
public:
    explicit DrillDown(QObject* parent = nullptr);

    /// The filter in force (the top of the stack; empty at the bottom).
    const bt::EventFilter& filter() const { return m_stack.last(); }
    bool canGoBack() const { return m_stack.size() > 1; }
    int depth() const { return static_cast<int>(m_stack.size()) - 1; }

    /// Pushes `filter` (a no-op when it equals the current one).
    void push(const bt::EventFilter& filter);
    /// Pushes the current filter narrowed by `change`.
    template<class F> void narrow(F change)
    {
        bt::EventFilter f = filter();
        change(f);
        push(f);
    }
    void back();
    void reset();

Q_SIGNALS:
    void filterChanged();

private:
    QList<bt::EventFilter> m_stack;
};

namespace btui
{
/// The filter in words, e.g. "provider Gmail · family reputation · 2026-03-01T10"; "all events"
/// when empty.
QString describeFilter(const bt::EventFilter& filter);
} // namespace btui
