import { Injectable, OnModuleInit, RequestMethod } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import { ACCESS_KEY, ACCESS_LEVELS, type AccessLevel } from './access';

export interface RoutePolicy {
  route: string;
  level: AccessLevel | undefined;
}

/** Every route handler of the application with the access level it declares (or none). */
export function routePolicies(discovery: DiscoveryService, scanner: MetadataScanner, reflector: Reflector): RoutePolicy[] {
  return discovery.getControllers().flatMap(({ instance, metatype }) => {
    if (!instance || !metatype) return [];
    const prototype = Object.getPrototypeOf(instance) as Record<string, (...args: unknown[]) => unknown>;
    const base = String(Reflect.getMetadata(PATH_METADATA, metatype) ?? '');
    return scanner.getAllMethodNames(prototype).flatMap((name) => {
      const handler = prototype[name];
      if (!handler) return [];
      const path = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      if (path === undefined) return [];
      const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod];
      const level = reflector.getAllAndOverride<AccessLevel | undefined>(ACCESS_KEY, [handler, metatype]);
      const route = [base, path].map((part) => part.replace(/^\/+|\/+$/g, '')).filter(Boolean).join('/');
      return [{ route: `${method} /${route} (${metatype.name}.${name})`, level }];
    });
  });
}

/** The API does not start while a route declares no access level: none is open by omission. */
@Injectable()
export class PolicyCheck implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
  ) {}

  onModuleInit(): void {
    const missing = routePolicies(this.discovery, this.scanner, this.reflector).filter((r) => !r.level || !ACCESS_LEVELS.includes(r.level));
    if (missing.length > 0) {
      throw new Error(`routes without an access policy (add @Access(...)): ${missing.map((r) => r.route).join(', ')}`);
    }
  }
}
