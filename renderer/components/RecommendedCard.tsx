// One recommended model: what it is (parameters, file size, quantization,
// licence), whether it fits this machine in each weight format, and the
// button that downloads it (off while offline, or once it is in the library).
import type { RecommendedModel } from '../../common/contract';
import { bytes, count } from '../app/format';
import { useUi } from '../app/context';
import { ACTIVE_STATES } from '../store/downloads';
import { FitList } from './FitList';

export function RecommendedCard({ model, offline, load }: { model: RecommendedModel; offline: boolean; load: boolean }) {
  const start = useUi((s) => s.startDownload);
  const downloading = useUi((s) => s.library.downloads.some((d) => d.name === model.name && (ACTIVE_STATES.has(d.state) || d.state === 'paused')));
  const label = model.in_library ? 'In the library' : downloading ? 'Downloading…' : 'Download';
  return (
    <li className="recommended" data-testid={`recommended-${model.id}`}>
      <div className="recommended-head">
        <div>
          <div className="model-name">{model.title}</div>
          <div className="muted small">
            {count(model.params)} parameters · {bytes(model.size_bytes)} · {model.quant} · {model.license}
          </div>
        </div>
        <button
          type="button"
          className="button"
          disabled={offline || model.in_library || downloading}
          onClick={() => void start({ url: model.url, name: model.name, ...(model.sha256 !== null ? { sha256: model.sha256 } : {}) }, { load })}
        >
          {label}
        </button>
      </div>
      <FitList fits={model.fits} />
    </li>
  );
}
