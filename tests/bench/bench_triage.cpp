// SPDX-License-Identifier: MIT
// The triage window on a large workspace: open to first paint, scroll to the end, a filter
// change with its chart redraw, the longest stall of the UI thread, and peak memory.
//
//   bench_triage [--rows N] [--workspace FILE [--save-counts]]
//
// --save-counts first saves the window's counts in the workspace again (as an import by this
// build does; not timed): a workspace imported by an older build holds them in an older form,
// which the window, a viewer, counts again at every open instead.
//
// Without --workspace it builds one in a temporary folder: a SendGrid-shaped CSV of N rows
// (default 1 000 000, from bouncetriage-samplegen) imported by bouncetriage-cli. That build is
// not part of the figures. Runs offscreen unless QT_QPA_PLATFORM says otherwise.
#include "classifier.h"
#include "knowledge.h"
#include "mainwindow.h"
#include "models/drilldown.h"
#include "models/eventtablemodel.h"
#include "query.h"
#include "sqlite.h"
#include "triage.h"
#include "views/groupsview.h"
#include "views/triageview.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QScrollBar>
#include <QSignalSpy>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <string>

using namespace Qt::StringLiterals;

namespace
{

/// Measures the longest gap between ticks of a 5 ms timer on the UI thread: how long the
/// thread was busy with something else (a blocked UI shows as a long gap).
class StallMeter : public QObject
{
public:
    StallMeter()
    {
        m_timer.setInterval(5);
        m_timer.setTimerType(Qt::PreciseTimer);
        connect(&m_timer, &QTimer::timeout, this, [this] {
            const qint64 now = m_clock.nsecsElapsed();
            if (m_last)
                m_worst = std::max(m_worst, now - m_last);
            m_last = now;
        });
    }
    void start()
    {
        m_clock.start();
        m_last = 0;
        m_worst = 0;
        m_timer.start();
    }
    double worstMs() const { return std::max(0.0, static_cast<double>(m_worst) / 1e6 - 5.0); }

private:
    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_last = 0;
    qint64 m_worst = 0;
};

bool waitFor(QObject* sender, const char* signal, int timeoutMs = 120000)
{
    QSignalSpy spy(sender, signal);
    return spy.wait(timeoutMs);
}

double peakMiB()
{
    rusage u {};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;
}

} // namespace

int main(int argc, char* argv[])
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", QByteArrayLiteral("offscreen"));
    QApplication app(argc, argv);
    QApplication::setOrganizationName(u"BounceTriageBench"_s);
    long rows = 1000000;
    QString workspace;
    bool saveCounts = false;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--rows") && i + 1 < argc)
            rows = std::atol(argv[++i]);
        else if (!std::strcmp(argv[i], "--workspace") && i + 1 < argc)
            workspace = QString::fromLocal8Bit(argv[++i]);
        else if (!std::strcmp(argv[i], "--save-counts"))
            saveCounts = true;
    }
    auto classifier = std::make_shared<const bt::Classifier>(bt::KnowledgeBase::loadDefault());

    QTemporaryDir dir;
    if (workspace.isEmpty()) {
        workspace = dir.filePath(u"bench.btw"_s);
        const QString csv = dir.filePath(u"bench.csv"_s);
        std::printf("building a %ld-row workspace (not timed)...\n", rows);
        std::fflush(stdout);
        if (QProcess::execute(QString::fromUtf8(BT_SAMPLEGEN),
                              {u"--bench-csv"_s, csv, u"--rows"_s, QString::number(rows)})
            != 0) {
            std::fprintf(stderr, "bench_triage: samplegen failed\n");
            return 1;
        }
        // In another process, so the import's memory does not count as the window's.
        if (QProcess::execute(QString::fromUtf8(BT_CLI), {u"import"_s, u"--workspace"_s, workspace, csv}) != 0) {
            std::fprintf(stderr, "bench_triage: import failed\n");
            return 1;
        }
        QFile::remove(csv);
    }
    if (saveCounts) {
        bt::Workspace ws(QFile::encodeName(workspace).toStdString());
        ws.db().exec("DELETE FROM cube_cache");
        QElapsedTimer saving;
        saving.start();
        bt::Triage::saveCache(ws);
        std::printf("counts saved in %.0f ms (not part of the figures)\n",
                    static_cast<double>(saving.nsecsElapsed()) / 1e6);
    }
    const double baseMiB = peakMiB();

    MainWindow window(classifier);
    window.resize(1280, 800);
    window.show();
    StallMeter stalls;
    TriageView* triage = window.triageView();
    EventTableModel* model = triage->model();

    // 1. Open to first paint: the table's first page and the charts on screen.
    stalls.start();
    QElapsedTimer t;
    t.start();
    QSignalSpy count(model, &EventTableModel::countChanged);
    QSignalSpy charts(triage, &TriageView::chartsUpdated);
    if (!window.openWorkspace(workspace, false))
        return 1;
    // Opening first detaches the views (a count of 0 at once): wait for the real snapshot.
    while (model->isLoading() && count.wait(120000)) { }
    const double tableMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
    const qint64 openedCount = model->totalCount();
    while (charts.isEmpty() && charts.wait(120000)) { }
    window.repaint();
    const double openMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
    const double openStall = stalls.worstMs();

    // 2. Scroll to the end: the last page fetched and shown.
    stalls.start();
    t.restart();
    QTableView* table = triage->table();
    table->scrollToBottom();
    const int last = model->rowCount() - 1;
    while (!model->eventId(last)) {
        (void)model->data(model->index(last, 0));
        if (!waitFor(model, SIGNAL(pageLoaded(int, int))))
            break;
    }
    table->viewport()->repaint();
    const double scrollMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
    const double scrollStall = stalls.worstMs();

    // 3. A filter change (one recipient domain, as a chart click pushes it) with the table and
    // all three charts redrawn.
    std::string domain;
    {
        bt::Workspace ws(QFile::encodeName(workspace).toStdString(), bt::Workspace::Mode::View);
        const auto values = bt::distinctValues(ws, "domain", 3);
        domain = values.empty() ? std::string() : values.back();
    }
    stalls.start();
    t.restart();
    count.clear();
    charts.clear();
    window.drillDown()->narrow([&](bt::EventFilter& f) { f.domains = {domain}; });
    while (model->isLoading() && count.wait(120000)) { }
    const double filterTableMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
    while (charts.isEmpty() && charts.wait(120000)) { }
    window.repaint();
    const double filterMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
    const double filterStall = stalls.worstMs();

    // 4. Back to everything.
    stalls.start();
    t.restart();
    count.clear();
    charts.clear();
    window.drillDown()->back();
    while (model->isLoading() && count.wait(120000)) { }
    while (charts.isEmpty() && charts.wait(120000)) { }
    const double backMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
    const double backStall = stalls.worstMs();

    // 5. A full-text search: the table comes from SQL, the charts from a cube built for that text.
    stalls.start();
    t.restart();
    count.clear();
    charts.clear();
    window.drillDown()->narrow([&](bt::EventFilter& f) { f.text = "spamhaus"; });
    while (model->isLoading() && count.wait(120000)) { }
    const double searchTableMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
    while (charts.isEmpty() && charts.wait(120000)) { }
    const double searchMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
    const double searchStall = stalls.worstMs();

    // 6. The Groups view by recipient domain (every domain with its rates, lifted-later and
    // incident flags), as switching the grouping asks for it.
    GroupsView* groups = window.groupsView();
    QSignalSpy grouped(groups, &GroupsView::groupsUpdated);
    window.drillDown()->back();
    QTest::qWait(300);
    grouped.wait(5000); // the refresh that going back started, if still on its way
    grouped.clear();
    stalls.start();
    t.restart();
    groups->setGroupBy(bt::GroupBy::Domain);
    while (grouped.isEmpty() && grouped.wait(120000)) { }
    const double groupMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
    const double groupStall = stalls.worstMs();
    const int groupRows = groups->findChild<QTableView*>()->model()->rowCount();

    // 7. Closing while a long query runs (sorting every reply): the statements are
    // interrupted, so the window does not wait for them.
    QTest::qWait(300);
    model->sort(static_cast<int>(bt::EventColumn::Reply), Qt::AscendingOrder); // a sort of every row
    QTest::qWait(200);
    t.restart();
    window.closeWorkspace();
    const double closeMs = static_cast<double>(t.nsecsElapsed()) / 1e6;

    // 7b. Closing while a search and its charts are on their way (a text not searched before, so
    // the search index is being read), and while Groups by domain is counted: opened again first.
    const auto reopen = [&] {
        count.clear();
        charts.clear();
        if (!window.openWorkspace(workspace, false))
            return false;
        while (model->isLoading() && count.wait(120000)) { }
        while (charts.isEmpty() && charts.wait(120000)) { }
        QTest::qWait(300);
        return true;
    };
    double closeSearchMs = -1, closeGroupsMs = -1;
    if (reopen()) {
        window.drillDown()->narrow([&](bt::EventFilter& f) { f.text = "mailbox"; });
        QTest::qWait(20);
        t.restart();
        window.closeWorkspace();
        closeSearchMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
    }
    if (reopen()) {
        groups->setGroupBy(bt::GroupBy::Provider);
        QTest::qWait(300);
        groups->setGroupBy(bt::GroupBy::Domain);
        QTest::qWait(20);
        t.restart();
        window.closeWorkspace();
        closeGroupsMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
    }

    // 8. The same answers without the window, on one connection and thread (the window closed):
    // what the core needs, apart from the lanes, the queueing and the views.
    double coreGroupsMs = 0, coreSearchMs = 0, coreFtsMs = 0;
    {
        bt::Workspace ws(QFile::encodeName(workspace).toStdString(), bt::Workspace::Mode::View);
        ws.useSmallCache();
        bt::Triage core;
        core.charts(ws, {}); // the cube of every event, as the window has it after opening
        bt::EventFilter search;
        search.text = "spamhaus";
        t.restart();
        (void)bt::matchingIds(ws, search.text);
        coreFtsMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
        t.restart();
        (void)core.eventIds(ws, search, bt::EventColumn::Time, true);
        (void)core.charts(ws, search);
        coreSearchMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
        t.restart();
        (void)core.groups(ws, bt::GroupBy::Domain, {});
        coreGroupsMs = static_cast<double>(t.nsecsElapsed()) / 1e6;
    }

    std::printf("\nworkspace: %lld events (%s)\n", static_cast<long long>(openedCount), qPrintable(workspace));
    std::printf("%-44s %10s %16s\n", "step", "ms", "longest UI stall");
    std::printf("%-44s %10.0f %13.0f ms   (%lld rows counted)\n", "open: table's first page on screen", tableMs,
                openStall, static_cast<long long>(openedCount));
    std::printf("%-44s %10.0f %13s\n", "open: charts drawn too (first full paint)", openMs, "");
    std::printf("%-44s %10.0f %13.0f ms\n", "scroll to the last row", scrollMs, scrollStall);
    std::printf("%-44s %10.0f %13.0f ms\n", "filter (one domain): table", filterTableMs, filterStall);
    std::printf("%-44s %10.0f %13s\n", "filter (one domain): table + 3 charts", filterMs, "");
    std::printf("%-44s %10.0f %13.0f ms\n", "back to all events: table + charts", backMs, backStall);
    std::printf("%-44s %10.0f %13.0f ms\n", "full-text search: table (SQL)", searchTableMs, searchStall);
    std::printf("%-44s %10.0f %13s\n", "full-text search: table + 3 charts (text cube)", searchMs, "");
    std::printf("%-44s %10.0f %13.0f ms   (%d domains)\n", "groups view by recipient domain", groupMs, groupStall,
                groupRows);
    std::printf("%-44s %10.0f\n", "close while a query runs", closeMs);
    std::printf("%-44s %10.0f\n", "close while a search runs", closeSearchMs);
    std::printf("%-44s %10.0f\n", "close while groups by domain are counted", closeGroupsMs);
    std::printf("%-44s %10.0f\n", "core alone: search index's matches", coreFtsMs);
    std::printf("%-44s %10.0f\n", "core alone: search table ids + charts", coreSearchMs);
    std::printf("%-44s %10.0f\n", "core alone: groups by recipient domain", coreGroupsMs);
    std::printf("peak memory: %.0f MiB (%.0f MiB before the window opened the workspace)\n", peakMiB(), baseMiB);
    return 0;
}
