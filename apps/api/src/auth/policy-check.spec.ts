import { Controller, Get, Post } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { Access } from './access';
import { PolicyCheck } from './policy-check';

@Controller('declared')
class Declared {
  @Get()
  @Access('read')
  list(): string {
    return 'ok';
  }
}

@Controller('forgotten')
class Forgotten {
  @Get(':id')
  @Access('public')
  one(): string {
    return 'ok';
  }

  @Post()
  create(): string {
    return 'ok';
  }
}

async function boot(...controllers: (new () => unknown)[]): Promise<void> {
  const sut = await Test.createTestingModule({ imports: [DiscoveryModule], controllers, providers: [PolicyCheck] }).compile();
  await sut.init();
  await sut.close();
}

describe('PolicyCheck', () => {
  it('lets the API start when every route declares its access', async () => {
    await expect(boot(Declared)).resolves.toBeUndefined();
  });

  it('stops the API naming each route that declares none', async () => {
    await expect(boot(Declared, Forgotten)).rejects.toThrow('routes without an access policy (add @Access(...)): POST /forgotten (Forgotten.create)');
  });
});
