// Download a model by URL (a Hugging Face "resolve" link), with an optional
// SHA-256 the finished file must match. The host checks the URL and the hash;
// what it rejects comes back as the library's one-line error.
import { useState, type FormEvent } from 'react';

import { useUi } from '../app/context';

const SHA256 = /^[0-9a-fA-F]{64}$/;

export function DownloadForm({ load }: { load: boolean }) {
  const [url, setUrl] = useState('');
  const [sha256, setSha256] = useState('');
  const start = useUi((s) => s.startDownload);
  const shaBad = sha256.trim() !== '' && !SHA256.test(sha256.trim());

  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (url.trim() === '' || shaBad) return;
    void start({ url: url.trim(), sha256: sha256.trim() }, { load });
  };

  return (
    <form className="inline-form" onSubmit={submit} aria-label="Download a model by URL">
      <label htmlFor="download-url" className="visually-hidden">
        URL of a .gguf file
      </label>
      <input
        id="download-url"
        className="input mono"
        data-testid="download-url"
        placeholder="https://huggingface.co/…/resolve/main/model.gguf"
        value={url}
        onChange={(e) => setUrl(e.target.value)}
        spellCheck={false}
        autoComplete="off"
      />
      <label htmlFor="download-sha256" className="visually-hidden">
        SHA-256 (optional)
      </label>
      <input
        id="download-sha256"
        className={`input mono sha-input${shaBad ? ' invalid' : ''}`}
        placeholder="SHA-256 (optional)"
        value={sha256}
        onChange={(e) => setSha256(e.target.value)}
        spellCheck={false}
        autoComplete="off"
        aria-invalid={shaBad}
      />
      <button type="submit" className="button" data-testid="download-button" disabled={url.trim() === '' || shaBad}>
        Download
      </button>
      {shaBad && <p className="error-text small form-line">A SHA-256 is 64 hexadecimal digits.</p>}
    </form>
  );
}
