// The nav's icons as inline SVG strokes: no icon font (the system's fonts may
// lack the glyphs and show boxes) and no image files to allow in the CSP.
// They inherit currentColor and are decorative (aria-hidden).
import type { ViewId } from '../store/app-slice';

const PATHS: Record<ViewId, string[]> = {
  // a four-point spark
  companion: ['M12 3l2.2 6.8L21 12l-6.8 2.2L12 21l-2.2-6.8L3 12l6.8-2.2z'],
  // a stopwatch
  performance: ['M12 9v4l2.5 2', 'M9 2h6', 'M12 2v3', 'M12 5a8 8 0 1 0 .01 0z'],
  // a pulse line
  telemetry: ['M2 12h4l3-7 4 14 3-7h6'],
  // three sliders
  settings: ['M4 6h10', 'M18 6h2', 'M4 12h4', 'M12 12h8', 'M4 18h12', 'M20 18h0', 'M16 4v4', 'M10 10v4', 'M18 16v4'],
  // a keyboard
  device: ['M3 6h18v12H3z', 'M7 10h0', 'M11 10h0', 'M15 10h0', 'M8 14h8'],
  // a stack of layers
  models: ['M12 3l9 5-9 5-9-5z', 'M3 13l9 5 9-5', 'M3 17.5l9 5 9-5'],
  // two speech bubbles
  chats: ['M4 5h12v8H9l-3 3v-3H4z', 'M16 9h4v8h-2v3l-3-3h-5v-4'],
};

export function ViewIcon({ view }: { view: ViewId }) {
  return (
    <svg className="icon" viewBox="0 0 24 24" width="18" height="18" aria-hidden="true" focusable="false">
      {PATHS[view].map((d) => (
        <path key={d} d={d} fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" strokeLinejoin="round" />
      ))}
    </svg>
  );
}
