// Offline, said once and plainly: downloads cannot reach the network (the
// host's reason, or a download that failed for want of one), and importing a
// file from disk still works.
import { useUi } from '../app/context';
import { offlineReason } from '../store/models-slice';

export function useOffline(): string | null {
  return useUi(offlineReason);
}

export function NetworkNote() {
  const reason = useOffline();
  if (reason === null) return null;
  return (
    <p className="offline-note" data-testid="offline" role="status">
      Offline: {reason.replace(/\.$/, '')}.{/import/i.test(reason) ? '' : ' Importing a GGUF from disk still works.'}
    </p>
  );
}
