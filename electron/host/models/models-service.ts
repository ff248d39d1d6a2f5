// The host's model service: the library, its downloads and the recommended
// list behind the contract's models.* requests, with download states sent as
// 'models.download' events. Opened once per host; close() pauses transfers so
// the next start offers to resume them.
import * as fs from 'node:fs';

import type { DownloadState, ModelLibraryEntry, ModelLibraryListing, RecommendedList } from '../../../common/contract';
import { Downloads, type DownloadsOptions, type StartRequest } from './download/downloads';
import { type LibraryOptions, ModelLibrary } from './library';
import { libraryPaths } from './names';
import { NetworkProbe } from './network';
import { type RecommendedDeps, recommendedList } from './recommended';

export interface ModelsServiceOptions extends LibraryOptions {
  emit: (state: DownloadState) => void;
  downloads?: Omit<DownloadsOptions, 'library' | 'emit' | 'inspect' | 'statfs'>;
  network?: NetworkProbe;
  recommended?: RecommendedDeps;
}

export class ModelsService {
  private constructor(
    readonly library: ModelLibrary,
    readonly downloads: Downloads,
    private readonly network: NetworkProbe,
    private readonly recommendedDeps: RecommendedDeps,
  ) {}

  static async open(options: ModelsServiceOptions): Promise<ModelsService> {
    const library = await ModelLibrary.open(options);
    const downloads = await Downloads.open({
      ...options.downloads,
      library,
      emit: options.emit,
      ...(options.inspect !== undefined ? { inspect: options.inspect } : {}),
      ...(options.statfs !== undefined ? { statfs: options.statfs } : {}),
    });
    return new ModelsService(library, downloads, options.network ?? new NetworkProbe(), options.recommended ?? {});
  }

  async list(): Promise<ModelLibraryListing> {
    return { models: await this.library.list(), downloads: this.downloads.list() };
  }

  import(file: string): Promise<ModelLibraryEntry> {
    return this.library.import(file);
  }

  start(request: StartRequest): Promise<DownloadState> {
    return this.downloads.start(request);
  }

  async recommended(): Promise<RecommendedList> {
    const network = await this.network.status();
    return recommendedList(network, (name) => fs.existsSync(libraryPaths(this.library.folder, name).model), this.recommendedDeps);
  }

  close(): Promise<void> {
    return this.downloads.close();
  }
}
