// SPDX-License-Identifier: MIT
#pragma once

#include <QChartView>
#include <QHash>
#include <QString>

class QBarCategoryAxis;

/// The base of the triage charts: follows the system palette (dark mode too), offers "Save as
/// PNG/SVG" in its context menu, and shows an "empty" note when there is nothing to draw.
class QValueAxis;

class ChartView : public QChartView
{
    Q_OBJECT
public:
    explicit ChartView(QWidget* parent = nullptr);

    /// Writes the chart as PNG or SVG (by the file's suffix); false with `error` set on failure.
    bool exportTo(const QString& path, QString* error = nullptr);
    /// The chart rendered at `size` on white, for the printable report.
    QImage renderImage(const QSize& size);
    /// The tooltip of the axis label drawn as `shown`, empty when it has none: for tests.
    QString labelTip(const QString& shown) const { return m_labelTips.value(shown.simplified()); }

protected:
    void contextMenuEvent(QContextMenuEvent* event) override;
    void changeEvent(QEvent* event) override;
    /// Colours of axes, labels and background from the palette; call after building series.
    void applyPalette();
    /// A count axis from 0 that shows whole numbers only: Qt's nice numbers put 4-5 ticks on a
    /// range of 0..1 and "%d" then reads "0 0 1 1"; a small maximum gets one tick per count.
    /// `room`, for a horizontal axis, is its length in pixels: no more ticks than labels fit.
    static void setCountRange(QValueAxis* axis, double max, int room = 0);
    void setEmptyText(const QString& text);
    /// Removes every series and axis (a chart is rebuilt whole on new data).
    void clearChart();
    /// A category axis for bar labels in a smaller font: three charts share a row. A label
    /// shortened to fit shows `tips[i]` (by default the whole label) when hovered.
    QBarCategoryAxis* labelAxis(const QStringList& labels, const QStringList& tips = {});
    /// The font of labelAxis()'s labels.
    QFont smallLabelFont() const;
    /// The widest a bar label may be at the current width (a third of the chart, in steps of
    /// 10 px): Qt Charts cuts a longer one to "…" on its own; labelAxis() shortens it first.
    int maxLabelWidth() const;
    /// How many bars with a label each fit along the left axis at the chart's current height.
    /// Qt Charts replaces a label by "..." once its row is lower than the text and its padding,
    /// all labels at once: a chart shows no more bars than this (at least `minimum`).
    int categoriesThatFit(int minimum) const;
    /// Called when the view's size changed so much that a different number of bars or axis
    /// labels fits: the chart rebuilds itself from the data it keeps.
    virtual void fitToSize() { }
    void resizeEvent(QResizeEvent* event) override;
    /// Hovering a bar's label shows its whole text and numbers (Qt Charts' labels have no
    /// tooltips of their own).
    void mouseMoveEvent(QMouseEvent* event) override;

private:
    QHash<QString, QString> m_labelTips; // label as drawn -> its tooltip
    bool m_labelTipShown = false;
};
