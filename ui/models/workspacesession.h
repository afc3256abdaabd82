// SPDX-License-Identifier: MIT
#pragma once

#include "triage.h"
#include "workspace.h"

#include <QObject>
#include <QPointer>
#include <QString>
#include <QThread>

#include <array>
#include <exception>
#include <functional>
#include <memory>

class QueryWorker;

/// An open workspace as the UI sees it: read connections on background threads, one per lane,
/// so SQL never runs on the UI thread and a slow chart query never holds up a table page.
/// Results come back to the UI thread through the session (which outlives its workers), and only
/// while the object that asked is still alive. Each view keeps its own generation id and drops
/// results of a superseded request (hotspot's JobTracker).
class WorkspaceSession : public QObject
{
    Q_OBJECT
public:
    /// Table: counts, pages, details. Analysis: chart and group queries over the table.
    /// Count: exports and reports. Cube: chart data from the in-memory cube (no waiting behind
    /// a long Analysis query). Details: the selected event (never queued behind a page).
    enum class Lane { Table, Analysis, Count, Cube, Details };

    /// Opens an existing workspace for viewing (nothing is written to it); throws
    /// bt::OpenError saying why when it cannot.
    explicit WorkspaceSession(const QString& path, QObject* parent = nullptr);
    ~WorkspaceSession() override;

    QString path() const { return m_path; }

    /// Runs `job` on the lane's thread with that thread's connection, then `done(result)` on
    /// the UI thread if `context` still exists. A job that throws reports through `failed`.
    template<class R>
    void run(Lane lane, QObject* context, std::function<R(bt::Workspace&)> job, std::function<void(R)> done)
    {
        QPointer<QObject> guard(context);
        post(lane, [this, guard, job = std::move(job), done = std::move(done)](bt::Workspace& ws) {
            auto result = std::make_shared<R>(job(ws));
            QMetaObject::invokeMethod(
                this,
                [guard, done, result] {
                    if (guard)
                        done(std::move(*result));
                },
                Qt::QueuedConnection);
        });
    }

    /// The triage numbers of this workspace (groups, charts, incidents, reports): ask it on a
    /// lane's thread with that lane's connection. Its cubes are shared by every lane.
    bt::Triage& triage() { return m_triage; }

Q_SIGNALS:
    void failed(const QString& message);

private:
    void post(Lane lane, std::function<void(bt::Workspace&)> task);

    QString m_path;
    bt::Triage m_triage;
    std::array<QThread, 5> m_threads;
    std::array<QueryWorker*, 5> m_workers {};
};
