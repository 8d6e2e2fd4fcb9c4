import { Controller, Get, Param, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { Public } from '../../core/auth/auth.decorators';
import { NotFoundError } from '../../core/errors/domain-error';
import { ZodParam } from '../../core/validation/zod.pipe';
import { loadDashboardAssets, type Asset } from './dashboard.assets';

const assetParamSchema = z.strictObject({ name: z.string().regex(/^[A-Za-z0-9.]+$/, 'not an asset name').max(64) });

/** Scripts and styles from this origin only; data calls go to this origin with the typed key. */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** The dashboard page: public static files; every data call needs the API key typed in. */
@ApiExcludeController()
@Controller()
@Public()
export class DashboardController {
  private readonly assets = loadDashboardAssets();

  @Get()
  index(@Res() reply: FastifyReply): void {
    this.send(reply, this.assets.index, 'no-cache');
  }

  /** Browsers ask for it on every page whatever the page links. */
  @Get('favicon.ico')
  favicon(@Res() reply: FastifyReply): void {
    this.send(reply, this.assets.favicon, 'public, max-age=86400');
  }

  @Get('dashboard/assets/:name')
  asset(@Param(new ZodParam(assetParamSchema)) p: { name: string }, @Res() reply: FastifyReply): void {
    const asset = this.assets.files.get(p.name);
    if (!asset) throw new NotFoundError('asset', p.name);
    this.send(reply, asset, 'public, max-age=300');
  }

  private send(reply: FastifyReply, asset: Asset, cache: string): void {
    void reply.header('content-security-policy', CSP).header('cache-control', cache).type(asset.type).send(asset.body);
  }
}
